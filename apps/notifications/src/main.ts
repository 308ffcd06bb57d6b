import { ConfigError, runService } from '#libs/platform/index.js';
import { loadNotificationsConfig, type NotificationsConfig } from './notifications.config.js';
import { NotificationsModule } from './notifications.module.js';
import { TemplateCatalog, TemplateConfigError } from './mail/template-catalog.js';

const config = loadConfigOrExit();
const templates = loadTemplatesOrExit(config.MAIL_TEMPLATES_DIR);
await runService({ name: 'notifications', config, module: (runtime) => NotificationsModule.forRoot(config, runtime, templates) });

/** The configuration, each variable and the relations between them checked; a bad one stops the service (status 78) naming every problem. */
function loadConfigOrExit(): NotificationsConfig {
  try {
    return loadNotificationsConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`[notifications] ${error.message}\n`);
    process.exit(78);
  }
}

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
