import { DataSource } from 'typeorm';
import { dataSourceOptions } from '#libs/platform/storage.js';
import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { TestDatabase } from '#libs/testing/database.js';
import { outboxSetAsideMigration } from './outbox-set-aside.migration.js';

const database = new TestDatabase();

beforeAll(() => database.create());
afterAll(() => database.drop());

// Identity's OutboxSetAside1734900000000 and access's OutboxSetAside1734800000000 run it, each on its own outbox.
describe.each(['identity', 'access'])('the migration that lets the relay set rows aside, on the outbox of %s', (schema) => {
  let dataSource: DataSource;

  async function outboxColumns(): Promise<string[]> {
    const rows = await dataSource.query<Array<{ name: string }>>(
      `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'outbox' ORDER BY column_name`,
      [schema],
    );
    return rows.map((row) => row.name);
  }

  beforeAll(async () => {
    dataSource = new DataSource(dataSourceOptions({ url: database.url, schema, entities: [], migrations: [], poolSize: 2, applicationName: 'portico-test' }));
    await dataSource.initialize();
  });
  afterAll(() => dataSource?.destroy());

  it('goes down and up again: rows already there start with no attempt and not set aside, and the lock timeout is not left behind', async () => {
    expect(await outboxColumns()).toEqual(expect.arrayContaining(['attempts', 'last_error', 'set_aside_at']));
    expect(await lockTimeoutAfter(dataSource, outboxSetAsideMigration, 'down')).toBe('0');
    expect(await outboxColumns()).toEqual(['account_id', 'created_at', 'id', 'payload', 'type']);
    await dataSource.query(`INSERT INTO outbox (id, type, payload) VALUES (gen_random_uuid(), 'identity.user.invited', '{}')`);
    expect(await lockTimeoutAfter(dataSource, outboxSetAsideMigration, 'up')).toBe('0');
    expect(await dataSource.query('SELECT attempts, last_error, set_aside_at FROM outbox')).toEqual([{ attempts: 0, last_error: null, set_aside_at: null }]);
    const [index] = await dataSource.query<Array<{ definition: string }>>(
      `SELECT indexdef AS definition FROM pg_indexes WHERE schemaname = $1 AND indexname = 'outbox_unpublished_by_age'`,
      [schema],
    );
    expect(index.definition).toMatch(/\(created_at, id\) WHERE \(set_aside_at IS NULL\)$/);
  });

  it('gives up on a busy outbox (lock_timeout, for the Job to retry) rather than queue every change that writes an event behind its lock', async () => {
    await lockTimeoutAfter(dataSource, outboxSetAsideMigration, 'down');
    await expect(migrateWhileTableBusy(dataSource, database.url, `${schema}.outbox`, outboxSetAsideMigration, 'up')).resolves.toMatchObject({ code: '55P03' });
    await lockTimeoutAfter(dataSource, outboxSetAsideMigration, 'up');
    expect(await outboxColumns()).toContain('set_aside_at');
  });
});
