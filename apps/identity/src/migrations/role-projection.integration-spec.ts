import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { RoleProjection1735400000000 } from './1735400000000-role-projection.js';

const db = new IdentityTestDatabase();
const migration = new RoleProjection1735400000000();

beforeAll(() => db.start());
afterAll(() => db.stop());

/** The role projection's tables that exist, sorted. */
async function projectionTables(): Promise<string[]> {
  const rows = await db.dataSource.query<Array<{ name: string }>>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'identity' AND table_name LIKE 'role\\_%' ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

describe('migration 1735400000000: the role projection', () => {
  it('going up, waits for no reader of accounts (its keys keep out only writers, for a moment), nor of memberships and subusers (it adds them no trigger); going down, gives up on a busy accounts table (lock_timeout, for the Job to retry)', async () => {
    const whileRead = (table: string, step: 'up' | 'down') => migrateWhileTableBusy(db.dataSource, db.database.url, table, migration, step);
    await expect(whileRead('identity.accounts', 'down')).resolves.toMatchObject({ code: '55P03' });
    for (const table of ['identity.memberships', 'identity.subusers']) await expect(whileRead(table, 'down')).resolves.toBeNull();
    await lockTimeoutAfter(db.dataSource, migration, 'down');
    for (const table of ['identity.accounts', 'identity.memberships', 'identity.subusers']) await expect(whileRead(table, 'up')).resolves.toBeNull();
    await lockTimeoutAfter(db.dataSource, migration, 'up');
  });

  it('goes down, taking its tables, and up again, the backfill still to do', async () => {
    expect(await projectionTables()).toEqual(['role_holding_versions', 'role_holdings', 'role_projection_backfill']);
    expect(await lockTimeoutAfter(db.dataSource, migration, 'down')).toBe('0');
    expect(await projectionTables()).toEqual([]);
    expect(await lockTimeoutAfter(db.dataSource, migration, 'up')).toBe('0');
    expect(await db.dataSource.query('SELECT filled_at, lease_until FROM role_projection_backfill')).toEqual([{ filled_at: null, lease_until: null }]);
  });
});
