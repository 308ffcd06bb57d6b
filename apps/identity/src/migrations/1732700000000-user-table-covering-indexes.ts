import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The user table's indexes on `memberships` after this migration (name -> definition). */
const COVERING = {
  memberships_by_name: '(account_id, sort_name, user_id) INCLUDE (active, created_at, last_login_at)',
  memberships_by_email: '(account_id, email_lower, user_id) INCLUDE (active, created_at, last_login_at)',
  memberships_by_created: '(account_id, created_at, user_id) INCLUDE (active, last_login_at)',
  memberships_by_last_login: "(account_id, (COALESCE(last_login_at, '-infinity'::timestamptz)), user_id) INCLUDE (active, created_at, last_login_at)",
  memberships_scan: '(account_id) INCLUDE (user_id, active, created_at, last_login_at, sort_name, email_lower, search)',
};

/** And before it. */
const PLAIN = {
  memberships_by_name: '(account_id, sort_name, user_id)',
  memberships_by_email: '(account_id, email_lower, user_id)',
  memberships_by_created: '(account_id, created_at, user_id)',
  memberships_by_last_login: "(account_id, (COALESCE(last_login_at, '-infinity'::timestamptz)), user_id)",
};

/**
 * The user table reads its rows from indexes alone (index-only scans). A search in an account
 * under TRIGRAM_SEARCH_FROM members filters the account's rows; through `memberships_scan` it
 * reads them from a few index pages instead of one heap page a member (an account's members are
 * spread over the table as they join). The sort indexes carry the columns a page shows, so a
 * page without search reads only its own rows' index entries.
 *
 * Built CONCURRENTLY (outside a transaction), so that sign-ins and invitations go on writing
 * `memberships` meanwhile; each index is built under a new name and then swapped in, so that a
 * run that stopped half-way can simply run again (it builds every index again). `down` must run
 * outside a transaction too: TypeORM's `undoLastMigration` needs `transaction: 'none'` for it.
 */
export class UserTableCoveringIndexes1732700000000 implements MigrationInterface {
  name = 'UserTableCoveringIndexes1732700000000';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    for (const [name, definition] of Object.entries(COVERING)) await replaceIndex(runner, name, definition);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS memberships_scan');
    for (const [name, definition] of Object.entries(PLAIN)) await replaceIndex(runner, name, definition);
  }
}

/** Builds `name` on memberships as `definition` without blocking writes, replacing the index of that name if there is one. */
async function replaceIndex(runner: QueryRunner, name: string, definition: string): Promise<void> {
  // An earlier run may have left `<name>_next` behind, valid or not: build it afresh.
  await runner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}_next`);
  await runner.query(`CREATE INDEX CONCURRENTLY ${name}_next ON memberships ${definition}`);
  await runner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  await runner.query(`ALTER INDEX ${name}_next RENAME TO ${name}`);
}
