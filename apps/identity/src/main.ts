import { loadConfigOrExit, runService } from '#libs/platform/index.js';
import { identityEnv, loadIdentityConfig } from './identity.config.js';
import { IdentityModule } from './identity.module.js';

const config = loadConfigOrExit('identity', identityEnv, loadIdentityConfig);
await runService({ name: 'identity', config, module: (runtime) => IdentityModule.forRoot(config, runtime) });
