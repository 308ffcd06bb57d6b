import type { MigrationInterface, QueryRunner } from 'typeorm';

/** One row per mail: the delivery log and the idempotency record of each event. */
export class InitialNotifications1732300000000 implements MigrationInterface {
  name = 'InitialNotifications1732300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE deliveries (
        id uuid PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        event_type text NOT NULL,
        account_id uuid,
        recipient text NOT NULL,
        template text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      );
      CREATE INDEX deliveries_account ON deliveries (account_id, created_at DESC);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE deliveries`);
  }
}
