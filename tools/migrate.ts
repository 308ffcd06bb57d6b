import { databaseEnv, loadConfigOrExit, migrate } from '#libs/platform/index.js';
import { accessDatabase } from '../apps/access/src/access.database.js';
import { identityDatabase } from '../apps/identity/src/identity.database.js';
import { notificationsDatabase } from '../apps/notifications/src/notifications.database.js';

/** Applies every service's pending migrations to DATABASE_URL (a Kubernetes Job runs this before an upgrade). */
const config = loadConfigOrExit('migrate', databaseEnv);
for (const database of [identityDatabase(config), accessDatabase(config), notificationsDatabase(config)]) {
  const applied = await migrate(database);
  process.stdout.write(`${database.schema}: ${applied.length === 0 ? 'up to date' : `applied ${applied.join(', ')}`}\n`);
}
