import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ALTER waits for an exclusive lock on `deliveries`, which the processors write all the time, and
 * every query on the table would queue behind it: it gives up after 5 s instead (the Job retries).
 * SET LOCAL: the migration tool runs each migration in its own transaction, which ends the setting.
 */
const LOCK_TIMEOUT = `SET LOCAL lock_timeout = '5s'`;

/**
 * Events that make several mails (a hand-over mails both people): each mail's record is keyed by
 * a key derived from its event's id, kept unique in `event_id` as before, and names its event in
 * `source_event_id`. Only a column is added, so replicas of the previous release go on as they were.
 */
export class MailsSharingAnEvent1733300000000 implements MigrationInterface {
  name = 'MailsSharingAnEvent1733300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(LOCK_TIMEOUT);
    await runner.query(`ALTER TABLE deliveries ADD COLUMN source_event_id uuid`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(LOCK_TIMEOUT);
    await runner.query(`ALTER TABLE deliveries DROP COLUMN source_event_id`);
  }
}
