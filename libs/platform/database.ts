import type { Pool } from 'pg';
import { DataSource, MigrationExecutor, QueryFailedError, type DataSourceOptions, type EntityManager, type MixedList } from 'typeorm';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { settlesWithin } from './clock.js';
import { isLockTimeout, queryFailureCode } from './database-errors.js';

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
 * How long PostgreSQL lets a session sit idle inside an open transaction before it ends the
 * session (and so frees its locks). No transaction of the services waits that long between two
 * statements; a replica frozen or cut off mid-transaction (its outbox rows claimed, a row locked)
 * would otherwise hold its locks until TCP keepalive notices, hours by default.
 */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

/**
 * TypeORM options for a service: its own schema, its own migrations table, never `synchronize`.
 * A statement may run 30 s (`statementTimeoutMs`), and a transaction may wait
 * {@link IDLE_IN_TRANSACTION_TIMEOUT_MS} between two statements, unless it is a migration's (0:
 * no limits, see {@link migrate}). TCP keepalive on every connection, its first probe after 10 s
 * idle (the probes' interval and count are the OS's: about 11 minutes on Linux): an idle pooled
 * connection to a server that went away is found dead rather than failing the next query late. A
 * query already waiting on a dead server is not shortened by it. No JIT compiling (`jit=off`): the
 * services' queries are short, and compiling one the planner prices high took longer than running it.
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
      // JIT compiling costs 100 ms and more on a query the planner overestimates (a user-table page whose
      // unused fallback step it prices at a full scan) and pays off only for long analytical queries.
      options: `-c search_path=${database.schema},public -c jit=off`,
      connectionTimeoutMillis: 5000,
      statement_timeout: statementTimeoutMs,
      idle_in_transaction_session_timeout: statementTimeoutMs === 0 ? 0 : IDLE_IN_TRANSACTION_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
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
    const applied = await dataSource.runMigrations({ transaction: 'each' }).catch(async (error: unknown) => {
      // The migrations before it are applied (each in a transaction of its own): the first still pending is the one that failed.
      const [failed] = await new MigrationExecutor(dataSource).getPendingMigrations().catch(() => []);
      throw new MigrationFailed(database.schema, failed?.name, error);
    });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}

/** A migration of a service's schema failed; the ones before it are applied. */
export class MigrationFailed extends Error {
  constructor(
    readonly schema: string,
    /** The migration that failed, when it could be told. */
    readonly migration: string | undefined,
    cause: unknown,
  ) {
    super(describeMigrationFailure(schema, migration, cause), { cause });
    this.name = 'MigrationFailed';
  }
}

/** One line for the operator: which migration, why, and for a busy table what to do. */
function describeMigrationFailure(schema: string, migration: string | undefined, cause: unknown): string {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const busy = isLockTimeout(cause)
    ? ' (a table it changes stayed in use longer than MIGRATION_LOCK_TIMEOUT_MS; its transaction rolled back: run the migrations again, as the Job does by itself)'
    : '';
  return `${schema}: ${migration ?? 'a migration'} gave up: ${reason}${busy}`;
}

/** True when the database answers a trivial query within `timeoutMs`. */
export async function databaseAnswers(dataSource: DataSource, timeoutMs = 2000): Promise<boolean> {
  if (!dataSource.isInitialized) return false;
  const probe = dataSource.query('SELECT 1').then(
    () => true,
    () => false,
  );
  return (await settlesWithin(probe, timeoutMs)) && probe;
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

/** SQLSTATEs of a statement the connection holds a stale copy of: it did not run, and runs again on a fresh connection. */
const STALE_STATEMENT = new Set(['0A000', '26000']);

/**
 * The names of prepared statements, one per distinct text, at most `maxTexts` (past that a new
 * text runs unnamed: texts must not carry values, those go in the parameters).
 */
export class PreparedStatements {
  private static allotted = 0;
  private readonly names = new Map<string, string>();

  constructor(private readonly maxTexts = 200) {}

  nameOf(text: string): string | undefined {
    let name = this.names.get(text);
    if (!name && this.names.size < this.maxTexts) this.names.set(text, (name = `portico_${++PreparedStatements.allotted}`));
    return name;
  }
}

const preparedStatements = new PreparedStatements();

/**
 * Runs one statement as a named prepared statement: each pooled connection has PostgreSQL parse it
 * once, and after five runs reuse a generic plan, instead of parsing and planning it on every call.
 * For the hot statements of a service (each sign-in's two): parsing and planning those took ~0.9 ms
 * of PostgreSQL's CPU per statement, about as much as running it. Resolves with the rows; errors
 * as from `dataSource.query` (QueryFailedError once a connection is had).
 *
 * An ordinary error leaves the connection in the pool, with its prepared statements. PostgreSQL
 * plans a statement again by itself when a table it reads changes; a change of the columns it
 * returns (a widened type, say) makes the connection's copy stale (SQLSTATE 0A000): that
 * connection is dropped and the statement runs once more, unnamed, on another. Behind a transaction-pooling
 * PgBouncer it needs 1.21 or later with `max_prepared_statements` set.
 */
export async function preparedQuery<T>(dataSource: DataSource, text: string, values: unknown[], statements = preparedStatements): Promise<T[]> {
  if (!dataSource.isInitialized) throw new Error('The database connection is not open');
  // The pg pool behind TypeORM's PostgreSQL driver.
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const config = { name: statements.nameOf(text), text, values };
  try {
    return await runOnOwnClient<T>(pool, config);
  } catch (error) {
    if (!isStaleStatement(error)) throw error;
    // Unnamed this once: the next connection may hold a stale copy too (it drops it on its own next use).
    return runOnOwnClient<T>(pool, { text, values });
  }
}

/** Runs `config` on a client of its own; the client goes back to the pool unless the error says it is broken or stale. */
async function runOnOwnClient<T>(pool: Pool, config: { name?: string; text: string; values: unknown[] }): Promise<T[]> {
  const client = await pool.connect();
  // An error event on a checked-out client with no listener would end the process.
  let broken: Error | undefined;
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    const { rows } = await client.query(config);
    return rows as T[];
  } catch (error) {
    if (!isOrdinaryServerError(error)) broken ??= error instanceof Error ? error : new Error(String(error));
    throw new QueryFailedError(config.text, config.values, error as Error);
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

/** An error PostgreSQL sent about the statement (severity ERROR), after which the connection is fine to use. */
function isOrdinaryServerError(error: unknown): boolean {
  const { severity, code } = error as { severity?: unknown; code?: unknown };
  return severity === 'ERROR' && !STALE_STATEMENT.has(String(code));
}

function isStaleStatement(error: unknown): boolean {
  return STALE_STATEMENT.has(queryFailureCode(error) ?? '');
}

/**
 * Advisory lock classes: the first key of PostgreSQL's two-key advisory locks, one per kind of
 * thing locked, so that locks of different kinds (and different services sharing a database)
 * never collide. The second key is `hashtext` of the thing's key.
 */
export const LockClass = {
  /** Counting mails against one recipient's rate limit (notifications). */
  MailRecipientCounter: 0x6d61_0001,
  /** Counting mails against one account's rate limit (notifications). */
  MailAccountCounter: 0x6d61_0002,
  /** Recording or claiming a mail that carries one link, and voiding that link (notifications). */
  MailLink: 0x6d61_0003,
  /** Changing one account's roles, applications, bindings or owner (access). */
  AccessAccountChange: 0x6163_0001,
} as const;

/**
 * Takes transaction-scoped advisory locks, in the order given, in one statement (its select list
 * is evaluated in order): each is held until the transaction ends. Callers that take several must
 * all take them in one order, or they can wait for each other in a circle.
 */
export async function lockForTransaction(manager: EntityManager, locks: Array<{ lockClass: number; key: string }>): Promise<void> {
  if (locks.length === 0) return;
  await manager.query(...advisoryLockCalls('pg_advisory_xact_lock', locks));
}

/**
 * Tries to take transaction-scoped advisory locks, in the order given, without waiting for any:
 * true when every one is now held (until the transaction ends); false when another transaction
 * holds one of them (those taken are held all the same until the transaction ends: end it).
 * Never waits, so it cannot join a circle of waits whatever the order.
 */
export async function tryLockForTransaction(manager: EntityManager, locks: Array<{ lockClass: number; key: string }>): Promise<boolean> {
  if (locks.length === 0) return true;
  const rows = await manager.query<Array<Record<string, boolean>>>(...advisoryLockCalls('pg_try_advisory_xact_lock', locks));
  return Object.values(rows[0] ?? {}).every((taken) => taken);
}

/** One statement calling `lockFunction` for each lock, in order (its select list is evaluated in order), and its parameters. */
function advisoryLockCalls(lockFunction: string, locks: Array<{ lockClass: number; key: string }>): [string, unknown[]] {
  const calls = locks.map((_, index) => `${lockFunction}($${2 * index + 1}::integer, hashtext($${2 * index + 2}::text)) AS l${index}`);
  return [`SELECT ${calls.join(', ')}`, locks.flatMap((lock) => [lock.lockClass, lock.key])];
}
