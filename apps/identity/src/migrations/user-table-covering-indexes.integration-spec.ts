import { migrateOutsideTransaction } from '#libs/testing/migration-runner.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { UserTableCoveringIndexes1732700000000 } from './1732700000000-user-table-covering-indexes.js';

const db = new IdentityTestDatabase();
const migration = new UserTableCoveringIndexes1732700000000();

/** The indexes of memberships whose name starts with `memberships_by_` or `memberships_scan` (any `_next` too): name -> valid, definition. */
async function userTableIndexes(): Promise<Record<string, { valid: boolean; definition: string }>> {
  const rows: Array<{ name: string; valid: boolean; definition: string }> = await db.dataSource.query(
    `SELECT c.relname AS name, i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'identity' AND t.relname = 'memberships' AND (c.relname LIKE 'memberships\\_by\\_%' OR c.relname LIKE 'memberships\\_scan%')`,
  );
  return Object.fromEntries(rows.map((row) => [row.name, { valid: row.valid, definition: row.definition }]));
}

beforeAll(() => db.start());
afterAll(() => db.stop());

describe('migration 1732700000000: the user table covering indexes', () => {
  it('is applied by a fresh migration: every sort index carries the page columns, and memberships_scan the search text', async () => {
    const indexes = await userTableIndexes();
    expect(Object.keys(indexes).sort()).toEqual([
      'memberships_by_created',
      'memberships_by_email',
      'memberships_by_last_login',
      'memberships_by_name',
      'memberships_scan',
    ]);
    expect(Object.values(indexes).every((index) => index.valid && index.definition.includes('INCLUDE'))).toBe(true);
    expect(indexes.memberships_scan.definition).toContain('search');
  });

  it('runs outside a transaction (its indexes are built CONCURRENTLY, without blocking writes)', () => {
    expect(migration.transaction).toBe(false);
  });

  it('runs again after a run that stopped half-way, leaving the same indexes and nothing behind', async () => {
    const before = await userTableIndexes();
    await db.account();
    await db.account();
    // A build cancelled half-way leaves an invalid index behind: this one fails on the two rows with active = true.
    await expect(db.dataSource.query('CREATE UNIQUE INDEX CONCURRENTLY memberships_by_name_next ON memberships (active)')).rejects.toThrow();
    expect((await userTableIndexes()).memberships_by_name_next).toEqual(expect.objectContaining({ valid: false }));
    // A run stopped between dropping an index and renaming its replacement.
    await db.dataSource.query('DROP INDEX memberships_by_email');
    await db.dataSource.query('CREATE INDEX memberships_by_email_next ON memberships (account_id)');
    // And one stopped before it built memberships_scan.
    await db.dataSource.query('DROP INDEX memberships_scan');
    await migrateOutsideTransaction(db.dataSource, migration, 'up');
    expect(await userTableIndexes()).toEqual(before);
  });

  it('goes down to the plain sort indexes and up again', async () => {
    const covering = await userTableIndexes();
    await migrateOutsideTransaction(db.dataSource, migration, 'down');
    const plain = await userTableIndexes();
    expect(Object.keys(plain).sort()).toEqual(['memberships_by_created', 'memberships_by_email', 'memberships_by_last_login', 'memberships_by_name']);
    expect(Object.values(plain).some((index) => index.definition.includes('INCLUDE'))).toBe(false);
    await migrateOutsideTransaction(db.dataSource, migration, 'up');
    expect(await userTableIndexes()).toEqual(covering);
  });
});
