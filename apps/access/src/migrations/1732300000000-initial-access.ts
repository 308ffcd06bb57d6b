import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Account owners and the record of events already applied. */
export class InitialAccess1732300000000 implements MigrationInterface {
  name = 'InitialAccess1732300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE account_owners (
        account_id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX account_owners_user ON account_owners (user_id);
      CREATE TABLE applied_events (
        event_id uuid PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE applied_events, account_owners`);
  }
}
