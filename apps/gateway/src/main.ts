import 'reflect-metadata';
import { loadConfigOrExit, onShutdownSignal, openRuntime } from '#libs/platform/index.js';
import { createGatewayApp } from './gateway.app.js';
import { gatewayEnv } from './gateway.config.js';

const config = loadConfigOrExit('gateway', gatewayEnv);
const runtime = await openRuntime('gateway', { ...config, HEALTH_PORT: 0 });
const app = await createGatewayApp(config, runtime);
await app.listen(config.GATEWAY_PORT, config.GATEWAY_HOST);
runtime.logger.info({ url: await app.getUrl() }, 'gateway is listening');
onShutdownSignal(
  runtime.logger,
  async () => {
    await app.close();
    await runtime.link.close();
  },
  config.SHUTDOWN_GRACE_MS,
);
