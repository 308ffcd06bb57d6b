import { loadConfigOrExit, runService } from '#libs/platform/index.js';
import { accessEnv } from './access.config.js';
import { AccessModule } from './access.module.js';

const config = loadConfigOrExit('access', accessEnv);
await runService({ name: 'access', config, module: (runtime) => AccessModule.forRoot(config, runtime) });
