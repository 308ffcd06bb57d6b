import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Access's outbox: the events of its changes (audited by identity), written in each change's transaction and relayed to JetStream. */
export class Outbox1733400000000 implements MigrationInterface {
  name = 'Outbox1733400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE outbox (
        id uuid PRIMARY KEY,
        type text NOT NULL,
        account_id uuid,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX outbox_by_age ON outbox (created_at);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE outbox`);
  }
}
