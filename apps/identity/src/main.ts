import { loadConfigOrExit, runService } from '#libs/platform/index.js';
import { identityEnv } from './identity.config.js';
import { IdentityModule } from './identity.module.js';

const config = loadConfigOrExit('identity', identityEnv);
await runService({ name: 'identity', config, module: (runtime) => IdentityModule.forRoot(config, runtime) });
