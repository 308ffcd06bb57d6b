import { loadConfigOrExit, runService } from '#libs/platform/index.js';
import { loadNotificationsConfig, notificationsEnv } from './notifications.config.js';
import { NotificationsModule } from './notifications.module.js';
import { TemplateCatalog, TemplateConfigError } from './mail/template-catalog.js';

// Each variable and the relations between them checked; a bad one stops the service (status 78) naming every problem.
const config = loadConfigOrExit('notifications', notificationsEnv, loadNotificationsConfig);
const templates = loadTemplatesOrExit(config.MAIL_TEMPLATES_DIR);
await runService({ name: 'notifications', config, module: (runtime) => NotificationsModule.forRoot(config, runtime, templates) });

/** The built-in templates with the operator's overrides; bad overrides stop the service (status 78) naming every problem. */
function loadTemplatesOrExit(directory: string): TemplateCatalog {
  try {
    return TemplateCatalog.load(directory === '-' ? null : directory);
  } catch (error) {
    if (!(error instanceof TemplateConfigError)) throw error;
    process.stderr.write(`[notifications] ${error.message}\n`);
    process.exit(78);
  }
}
