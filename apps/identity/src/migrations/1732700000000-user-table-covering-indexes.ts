import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The user table reads its rows from indexes alone (index-only scans). A search in an account
 * under TRIGRAM_SEARCH_FROM members filters the account's rows; through `memberships_scan` it
 * reads them from a few index pages instead of one heap page a member (an account's members are
 * spread over the table as they join). The sort indexes carry the columns a page shows, so a
 * page without search reads only its own rows' index entries.
 */
export class UserTableCoveringIndexes1732700000000 implements MigrationInterface {
  name = 'UserTableCoveringIndexes1732700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP INDEX memberships_by_name, memberships_by_email, memberships_by_created, memberships_by_last_login;
      CREATE INDEX memberships_by_name ON memberships (account_id, sort_name, user_id) INCLUDE (active, created_at, last_login_at);
      CREATE INDEX memberships_by_email ON memberships (account_id, email_lower, user_id) INCLUDE (active, created_at, last_login_at);
      CREATE INDEX memberships_by_created ON memberships (account_id, created_at, user_id) INCLUDE (active, last_login_at);
      CREATE INDEX memberships_by_last_login ON memberships (account_id, (COALESCE(last_login_at, '-infinity'::timestamptz)), user_id)
        INCLUDE (active, created_at, last_login_at);
      CREATE INDEX memberships_scan ON memberships (account_id) INCLUDE (user_id, active, created_at, last_login_at, sort_name, email_lower, search);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP INDEX memberships_scan, memberships_by_name, memberships_by_email, memberships_by_created, memberships_by_last_login;
      CREATE INDEX memberships_by_name ON memberships (account_id, sort_name, user_id);
      CREATE INDEX memberships_by_email ON memberships (account_id, email_lower, user_id);
      CREATE INDEX memberships_by_created ON memberships (account_id, created_at, user_id);
      CREATE INDEX memberships_by_last_login ON memberships (account_id, (COALESCE(last_login_at, '-infinity'::timestamptz)), user_id);
    `);
  }
}
