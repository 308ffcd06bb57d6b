import { databaseEnv, integer, loadConfigOrExit } from '#libs/platform/index.js';
import { DEFAULT_MIGRATION_LOCK_TIMEOUT_MS, migrate, setMigrationLockTimeout } from '#libs/platform/storage.js';
import { accessDatabase } from '../apps/access/src/access.database.js';
import { identityDatabase } from '../apps/identity/src/identity.database.js';
import { notificationsDatabase } from '../apps/notifications/src/notifications.database.js';

/** Applies every service's pending migrations to DATABASE_URL (a Kubernetes Job runs this before an upgrade). */
const config = loadConfigOrExit('migrate', {
  ...databaseEnv,
  MIGRATION_LOCK_TIMEOUT_MS: integer(
    'How long a migration waits for a lock on a table in use before it gives up (ms; the Job retries)',
    100,
    600_000,
    DEFAULT_MIGRATION_LOCK_TIMEOUT_MS,
  ),
});
setMigrationLockTimeout(config.MIGRATION_LOCK_TIMEOUT_MS);
for (const database of [identityDatabase(config), accessDatabase(config), notificationsDatabase(config)]) {
  const applied = await migrate(database).catch((error: unknown) => exitWith(error));
  process.stdout.write(`${database.schema}: ${applied.length === 0 ? 'up to date' : `applied ${applied.join(', ')}`}\n`);
}

/** A migration that failed: the cause in one line (no stack trace), status 1. */
function exitWith(error: unknown): never {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
