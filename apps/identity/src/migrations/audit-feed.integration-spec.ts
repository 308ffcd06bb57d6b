import { randomUUID } from 'node:crypto';
import { migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { migrateOutsideTransaction } from '#libs/testing/migration-runner.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { AuditFeed1735300000000 } from './1735300000000-audit-feed.js';

const db = new IdentityTestDatabase();
const migration = new AuditFeed1735300000000();

/** The feed's indexes of audit_events (and any `_next` left behind): name -> valid. */
async function feedIndexes(): Promise<Record<string, boolean>> {
  const rows: Array<{ name: string; valid: boolean }> = await db.dataSource.query(
    `SELECT c.relname AS name, i.indisvalid AS valid
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'identity' AND t.relname = 'audit_events' AND (c.relname LIKE 'audit\\_events\\_feed%' OR c.relname LIKE 'audit\\_events\\_before\\_feed%')`,
  );
  return Object.fromEntries(rows.map((row) => [row.name, row.valid]));
}

async function insertEvent(accountId: string): Promise<string> {
  const id = randomUUID();
  await db.dataSource.query(
    `INSERT INTO audit_events (id, account_id, occurred_at, action, outcome, details) VALUES ($1, $2, now(), 'login.failed', 'failure', '{}')`,
    [id, accountId],
  );
  return id;
}

async function writtenIn(id: string): Promise<string | null> {
  const [row] = await db.dataSource.query<Array<{ written_in: string | null }>>('SELECT written_in::text FROM audit_events WHERE id = $1', [id]);
  return row.written_in;
}

beforeAll(() => db.start());
afterAll(() => db.stop());

describe('migration 1735300000000: the audit feed', () => {
  it('is applied by a fresh migration, outside a transaction (indexes built CONCURRENTLY)', async () => {
    expect(await feedIndexes()).toEqual({ audit_events_feed: true, audit_events_before_feed: true });
    expect(migration.transaction).toBe(false);
  });

  it('leaves the rows already there without a writing transaction, without rewriting the table, and gives every later row its own', async () => {
    const { accountId } = await db.account();
    await migrateOutsideTransaction(db.dataSource, migration, 'down');
    const before = await insertEvent(accountId);
    const [{ file: fileBefore }] = await db.dataSource.query<Array<{ file: number }>>(`SELECT pg_relation_filenode('audit_events') AS file`);

    await migrateOutsideTransaction(db.dataSource, migration, 'up');
    const [{ file: fileAfter }] = await db.dataSource.query<Array<{ file: number }>>(`SELECT pg_relation_filenode('audit_events') AS file`);
    expect(fileAfter).toEqual(fileBefore);
    expect(await writtenIn(before)).toBeNull();
    expect(await writtenIn(await insertEvent(accountId))).toMatch(/^[1-9]\d*$/);
  });

  it('runs again after a run that stopped half-way (an invalid index left behind), leaving the two indexes', async () => {
    const { accountId } = await db.account();
    await insertEvent(accountId);
    await insertEvent(accountId);
    // A build cancelled half-way leaves an invalid index behind: this one fails on the two rows of one account.
    await expect(db.dataSource.query('CREATE UNIQUE INDEX CONCURRENTLY audit_events_feed_next ON audit_events (account_id)')).rejects.toThrow();
    expect(await feedIndexes()).toEqual({ audit_events_feed: true, audit_events_before_feed: true, audit_events_feed_next: false });
    await migrateOutsideTransaction(db.dataSource, migration, 'up');
    expect(await feedIndexes()).toEqual({ audit_events_feed: true, audit_events_before_feed: true });
  });

  it('gives up on a busy audit_events table (lock_timeout, for the Job to retry) rather than queue every sign-in behind its ALTER', async () => {
    await migrateOutsideTransaction(db.dataSource, migration, 'down');
    try {
      // Under the 30 s statement timeout of this connection: waiting for the lock would fail with 57014 instead.
      await expect(migrateWhileTableBusy(db.dataSource, db.database.url, 'identity.audit_events', migration, 'up')).resolves.toMatchObject({ code: '55P03' });
    } finally {
      await migrateOutsideTransaction(db.dataSource, migration, 'up');
    }
    const [{ timeout }] = await db.dataSource.query<Array<{ timeout: string }>>("SELECT current_setting('lock_timeout') AS timeout");
    expect(timeout).toBe('0');
  });
});
