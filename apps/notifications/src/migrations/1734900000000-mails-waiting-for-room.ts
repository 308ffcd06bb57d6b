import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Link mails over a rate limit wait for room instead of being suppressed: `rate_wait_until` is set
 * on a `pending` mail not counted yet against its limits, and says until when it may wait (see
 * docs/notifications.md, "Rate limits"). A nullable column without a default: PostgreSQL only
 * changes the catalogue, so mails go on being recorded meanwhile.
 */
export class MailsWaitingForRoom1734900000000 implements MigrationInterface {
  name = 'MailsWaitingForRoom1734900000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE deliveries ADD COLUMN rate_wait_until timestamptz');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      UPDATE deliveries SET status = 'suppressed', next_attempt_at = NULL, rate_wait_until = NULL WHERE rate_wait_until IS NOT NULL AND status = 'pending';
      ALTER TABLE deliveries DROP COLUMN rate_wait_until;
    `);
  }
}
