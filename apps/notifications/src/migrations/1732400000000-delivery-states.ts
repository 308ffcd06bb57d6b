import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The delivery states of issue 5 (`sending` with a lease, `suppressed`), the retry schedule and
 * the locale and Message-ID of each mail, a page index for the log, and the rate-limit counters.
 */
export class DeliveryStates1732400000000 implements MigrationInterface {
  name = 'DeliveryStates1732400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
      ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead', 'suppressed'));
      ALTER TABLE deliveries
        ADD COLUMN locale text NOT NULL DEFAULT 'en',
        ADD COLUMN message_id text,
        ADD COLUMN last_attempt_at timestamptz,
        ADD COLUMN next_attempt_at timestamptz,
        ADD COLUMN lease_until timestamptz;
      DROP INDEX deliveries_account;
      CREATE INDEX deliveries_account_page ON deliveries (account_id, created_at DESC, id DESC);
      CREATE INDEX deliveries_account_status ON deliveries (account_id, status, created_at DESC, id DESC);
      CREATE TABLE mail_rate_buckets (
        key text NOT NULL,
        bucket timestamptz NOT NULL,
        count integer NOT NULL,
        PRIMARY KEY (key, bucket)
      );
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP TABLE mail_rate_buckets;
      DROP INDEX deliveries_account_status;
      DROP INDEX deliveries_account_page;
      CREATE INDEX deliveries_account ON deliveries (account_id, created_at DESC);
      ALTER TABLE deliveries DROP COLUMN locale, DROP COLUMN message_id, DROP COLUMN last_attempt_at, DROP COLUMN next_attempt_at, DROP COLUMN lease_until;
      ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
      UPDATE deliveries SET status = 'pending' WHERE status IN ('sending', 'suppressed');
      ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK (status IN ('pending', 'sent', 'failed', 'dead'));
    `);
  }
}
