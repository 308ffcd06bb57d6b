import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whether each principal identity told of is active in its account, and when that last changed
 * (identity's clock): an event older than the row never overwrites it. Active rows are kept for
 * that order too; checks load only the inactive ones.
 */
export class PrincipalActivity1733200000000 implements MigrationInterface {
  name = 'PrincipalActivity1733200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE principal_activity (
        account_id uuid NOT NULL,
        principal_type text NOT NULL CHECK (principal_type IN ('user', 'subuser')),
        principal_id uuid NOT NULL,
        active boolean NOT NULL,
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (account_id, principal_type, principal_id)
      );
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE principal_activity`);
  }
}
