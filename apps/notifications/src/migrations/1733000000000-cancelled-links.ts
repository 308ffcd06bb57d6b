import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Mails whose link died before they went out: the `cancelled` status, and the links identity
 * voided (`identity.links.voided`), by the hash of their token, kept as long as an event carrying
 * one may still come (the events stream keeps an event 7 days).
 */
export class CancelledLinks1733000000000 implements MigrationInterface {
  name = 'CancelledLinks1733000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
      ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead', 'suppressed', 'cancelled'));
      CREATE TABLE voided_links (
        token_hash text PRIMARY KEY,
        voided_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX voided_links_by_age ON voided_links (voided_at);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP TABLE voided_links;
      ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
      UPDATE deliveries SET status = 'suppressed' WHERE status = 'cancelled';
      ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead', 'suppressed'));
    `);
  }
}
