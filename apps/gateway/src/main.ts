import 'reflect-metadata';
// First, before any contract is defined: the contracts' OpenAPI description (libs/contracts/api-docs.ts).
import './openapi/api-description.js';
import { loadConfigOrExit, onShutdownSignal, openRuntime } from '#libs/platform/index.js';
import { createGatewayApp } from './gateway.app.js';
import { gatewayEnv, loadGatewayConfig } from './gateway.config.js';
import { startMetricsServer } from './operations/metrics-server.js';

const config = loadConfigOrExit('gateway', gatewayEnv, loadGatewayConfig);
const runtime = await openRuntime('gateway', { ...config, HEALTH_PORT: 0 });
const app = await createGatewayApp(config, runtime);
await app.listen(config.GATEWAY_PORT, config.GATEWAY_HOST);
const metricsServer = config.METRICS_PORT > 0 ? await startMetricsServer(config.METRICS_PORT, config.GATEWAY_HOST) : undefined;
runtime.logger.info({ url: await app.getUrl(), metricsPort: config.METRICS_PORT }, 'gateway is listening');
onShutdownSignal(
  runtime.logger,
  async () => {
    await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
    await app.close();
    await runtime.link.close();
  },
  config.SHUTDOWN_GRACE_MS,
);
