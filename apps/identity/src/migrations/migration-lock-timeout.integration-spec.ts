/** MIGRATION_LOCK_TIMEOUT_MS as the built migration tool (the Kubernetes Job) reads it: how long a migration waits for a table in use. */
import pg from 'pg';
import { DEFAULT_MIGRATION_LOCK_TIMEOUT_MS } from '#libs/platform/migration-locks.js';
import { lockTimeoutAfter } from '#libs/testing/busy-table.js';
import { runBuiltTool } from '#libs/testing/dist.js';
import { eventually } from '#libs/testing/eventually.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { SecondStepBlock1735000000000 } from './1735000000000-second-step-block.js';

const db = new IdentityTestDatabase();
const migration = new SecondStepBlock1735000000000();

beforeAll(() => db.start());
afterAll(() => db.stop());

/** Runs dist/tools/migrate.js on the test database with `env`; never rejects. What it printed, both streams as one. */
async function migrateTool(env: Record<string, string> = {}): Promise<{ status: number; output: string }> {
  const run = await runBuiltTool('tools/migrate.js', [], { DATABASE_URL: db.database.url, ...env });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Reverts the second-step block migration (the latest of identity) if it is applied, so that the tool has it to run. */
async function takeSecondStepBlockDown(): Promise<void> {
  if (!(await secondStepBlockApplied())) return;
  await lockTimeoutAfter(db.dataSource, migration, 'down');
  await db.dataSource.query(`DELETE FROM migrations WHERE name = $1`, [migration.name]);
}

/** Runs `work` while another connection's open transaction has read `totp_factors` (as a busy service's would); its result. */
async function whileTableBusy<T>(work: () => Promise<T>): Promise<T> {
  const busy = new pg.Client({ connectionString: db.database.url });
  await busy.connect();
  try {
    await busy.query('BEGIN');
    await busy.query('SELECT 1 FROM identity.totp_factors LIMIT 1');
    return await work();
  } finally {
    await busy.query('ROLLBACK');
    await busy.end();
  }
}

/** Whether a session waits for a lock on `totp_factors` (the migration tool's ALTER). */
async function migrationWaiting(): Promise<boolean> {
  const rows = await db.dataSource.query<unknown[]>(
    `SELECT 1 FROM pg_locks WHERE NOT granted AND relation = 'identity.totp_factors'::regclass AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return rows.length > 0;
}

/** Whether identity's migrations table says the second-step block migration ran. */
async function secondStepBlockApplied(): Promise<boolean> {
  const rows = await db.dataSource.query<unknown[]>(`SELECT 1 FROM migrations WHERE name = $1`, [migration.name]);
  return rows.length === 1;
}

describe('MIGRATION_LOCK_TIMEOUT_MS', () => {
  it('is whole milliseconds: "5s" stops the tool with status 78 naming MIGRATION_LOCK_TIMEOUT_MS, no stack trace', async () => {
    const run = await migrateTool({ MIGRATION_LOCK_TIMEOUT_MS: '5s' });
    expect(run.status).toBe(78);
    expect(run.output).toContain('MIGRATION_LOCK_TIMEOUT_MS');
    expect(run.output).not.toMatch(/\n\s+at /);
  });

  it('is how long a pending migration waits for a table in use: past it the migration gives up and applies nothing (the Job retries), saying why', async () => {
    await takeSecondStepBlockDown();
    await whileTableBusy(async () => {
      const refused = await migrateTool({ MIGRATION_LOCK_TIMEOUT_MS: '200' });
      expect(refused.status).toBe(1);
      expect(refused.output).toContain(
        `identity: ${migration.name} gave up: canceling statement due to lock timeout (a table it changes stayed in use longer than MIGRATION_LOCK_TIMEOUT_MS`,
      );
      expect(refused.output).not.toMatch(/\n\s+at /);
    });
    expect(await secondStepBlockApplied()).toBe(false);
    expect(await db.columnsOf('totp_factors')).not.toContain('blocked_at');
  });

  it('may be longer than the 5 s default: a migration waits past 5 s for the table, and goes through once it is free', async () => {
    await takeSecondStepBlockDown();
    const run = await whileTableBusy(async () => {
      const running = migrateTool({ MIGRATION_LOCK_TIMEOUT_MS: '120000' });
      await eventually('the migration to wait for the table', migrationWaiting);
      await new Promise((resolve) => setTimeout(resolve, DEFAULT_MIGRATION_LOCK_TIMEOUT_MS + 1000));
      expect(await migrationWaiting()).toBe(true);
      return { running }; // not awaited here: the table is freed first
    });
    expect(await run.running).toMatchObject({ status: 0, output: expect.stringContaining(`identity: applied ${migration.name}`) });
    expect(await secondStepBlockApplied()).toBe(true);
    expect(await db.columnsOf('totp_factors')).toContain('blocked_at');
  });
});
