import { migrateOutsideTransaction } from '#libs/testing/migration-runner.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { SubuserSearch1735200000000 } from './1735200000000-subuser-search.js';

const db = new IdentityTestDatabase();
const migration = new SubuserSearch1735200000000();

/** The indexes of subusers named subusers_search (and a `_next` left behind): name -> valid. */
async function searchIndexes(): Promise<Record<string, boolean>> {
  const rows: Array<{ name: string; valid: boolean }> = await db.dataSource.query(
    `SELECT c.relname AS name, i.indisvalid AS valid
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'identity' AND t.relname = 'subusers' AND c.relname LIKE 'subusers\\_search%'`,
  );
  return Object.fromEntries(rows.map((row) => [row.name, row.valid]));
}

beforeAll(() => db.start());
afterAll(() => db.stop());

describe('migration 1735200000000: the subusers search index', () => {
  it('is applied by a fresh migration, outside a transaction (built CONCURRENTLY, without blocking writes)', async () => {
    expect(await searchIndexes()).toEqual({ subusers_search: true });
    expect(migration.transaction).toBe(false);
  });

  it('runs again after a run that stopped half-way (an invalid index left behind), leaving the one index', async () => {
    const { accountId } = await db.account();
    await db.subuser(accountId, 'desk-1');
    await db.subuser(accountId, 'desk-2');
    // A build cancelled half-way leaves an invalid index behind: this one fails on the two rows of one account.
    await expect(db.dataSource.query('CREATE UNIQUE INDEX CONCURRENTLY subusers_search_next ON subusers (account_id)')).rejects.toThrow();
    expect(await searchIndexes()).toEqual({ subusers_search: true, subusers_search_next: false });
    await migrateOutsideTransaction(db.dataSource, migration, 'up');
    expect(await searchIndexes()).toEqual({ subusers_search: true });
  });

  it('goes down and up again', async () => {
    await migrateOutsideTransaction(db.dataSource, migration, 'down');
    expect(await searchIndexes()).toEqual({});
    await migrateOutsideTransaction(db.dataSource, migration, 'up');
    expect(await searchIndexes()).toEqual({ subusers_search: true });
  });
});
