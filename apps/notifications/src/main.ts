import { loadConfigOrExit, runService } from '#libs/platform/index.js';
import { notificationsEnv } from './notifications.config.js';
import { NotificationsModule } from './notifications.module.js';

const config = loadConfigOrExit('notifications', notificationsEnv);
await runService({ name: 'notifications', config, module: (runtime) => NotificationsModule.forRoot(config, runtime) });
