import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Remembers the accounts identity closed (`identity.account.closed`), so that an event about one
 * applied after its closure (a redelivery after a failed first try, or one of another consumer that
 * came later) puts nothing back: without it, a late `identity.account.created` would make its owner
 * the owner again, in access, of an account identity no longer has. A new table; down drops it.
 */
export class ClosedAccounts1734500000000 implements MigrationInterface {
  name = 'ClosedAccounts1734500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE closed_accounts (
        account_id uuid PRIMARY KEY,
        closed_at timestamptz NOT NULL DEFAULT now()
      )
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE closed_accounts');
  }
}
