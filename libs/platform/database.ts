import { DataSource, QueryFailedError, type DataSourceOptions, type MixedList } from 'typeorm';
import { DomainError, ErrorCode } from '#libs/errors/index.js';

/** Where one service's tables live. */
export interface ServiceDatabase {
  url: string;
  /** The PostgreSQL schema the service owns. */
  schema: string;
  entities: MixedList<Function>;
  migrations: MixedList<Function>;
  poolSize: number;
  applicationName: string;
}

/**
 * TypeORM options for a service: its own schema, its own migrations table, never `synchronize`.
 * A statement may run 30 s (`statementTimeoutMs`), unless it is a migration's (see {@link migrate}).
 */
export function dataSourceOptions(database: ServiceDatabase, statementTimeoutMs = 30_000): DataSourceOptions {
  return {
    type: 'postgres',
    url: database.url,
    schema: database.schema,
    entities: database.entities,
    migrations: database.migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    applicationName: database.applicationName,
    extra: {
      max: database.poolSize,
      options: `-c search_path=${database.schema},public`,
      connectionTimeoutMillis: 5000,
      statement_timeout: statementTimeoutMs,
    },
  };
}

/**
 * Creates the service's schema if missing and applies its pending migrations. Returns their names.
 * Without a statement timeout: building an index of a large table takes as long as it takes.
 */
export async function migrate(database: ServiceDatabase): Promise<string[]> {
  const dataSource = new DataSource(dataSourceOptions({ ...database, poolSize: 1 }, 0));
  await dataSource.initialize();
  try {
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${database.schema}"`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}

/** True when the database answers a trivial query within `timeoutMs`. */
export async function databaseAnswers(dataSource: DataSource, timeoutMs = 2000): Promise<boolean> {
  if (!dataSource.isInitialized) return false;
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  const probe = dataSource.query('SELECT 1').then(
    () => true,
    () => false,
  );
  return Promise.race([probe, timeout]);
}

/**
 * A `.catch` handler for a write that may break a unique constraint (two requests racing for the
 * same name, say): that becomes a 409 CONFLICT with `message`, naming `field`; any other error
 * passes on unchanged. `constraint`, when given, limits it to constraints whose name matches.
 */
export function conflictOnDuplicate(message: string, field: string, constraint?: RegExp): (error: unknown) => never {
  return (error) => {
    const driverError = error instanceof QueryFailedError ? (error.driverError as { code?: string; constraint?: string }) : undefined;
    if (driverError?.code === '23505' && (!constraint || constraint.test(String(driverError.constraint)))) {
      throw new DomainError(ErrorCode.Conflict, message, { field });
    }
    throw error;
  };
}

/** The pg pool behind a TypeORM PostgreSQL data source (its driver's `master`). */
interface PgPool {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** At most this many distinct statement texts are prepared (each connection keeps each one it ran). */
const MAX_PREPARED_TEXTS = 200;
const preparedNames = new Map<string, string>();

/**
 * Runs one statement as a named prepared statement: each pooled connection has PostgreSQL parse
 * and plan it once, not on every call. For the hot statements of a service (each sign-in's two):
 * parsing and planning those took ~0.9 ms of PostgreSQL's CPU per statement, about as much as
 * running it. Same rows and errors as `dataSource.query` (PostgreSQL's errors as QueryFailedError).
 *
 * Past {@link MAX_PREPARED_TEXTS} distinct texts a new text runs unnamed, so texts must not carry
 * values (those go in `values`). PostgreSQL plans a prepared statement again by itself when a
 * table it reads changes; only a change of the columns it returns (their number or types) makes it
 * fail ("cached plan must not change result type"), which the backward-compatible migrations of
 * docs/deploy.md never make. Behind a transaction-pooling PgBouncer it needs 1.21 or later with
 * `max_prepared_statements` set.
 */
export async function preparedQuery<T>(dataSource: DataSource, text: string, values: unknown[]): Promise<T[]> {
  const pool = (dataSource.driver as unknown as { master: PgPool }).master;
  try {
    const { rows } = await pool.query({ name: preparedNameOf(text), text, values });
    return rows as T[];
  } catch (error) {
    throw isServerError(error) ? new QueryFailedError(text, values, error) : error;
  }
}

function preparedNameOf(text: string): string | undefined {
  let name = preparedNames.get(text);
  if (!name && preparedNames.size < MAX_PREPARED_TEXTS) preparedNames.set(text, (name = `portico_${preparedNames.size + 1}`));
  return name;
}

/** An error PostgreSQL itself sent (it has a severity and an SQLSTATE code), not a broken connection. */
function isServerError(error: unknown): error is Error {
  return error instanceof Error && typeof (error as { severity?: unknown }).severity === 'string';
}
