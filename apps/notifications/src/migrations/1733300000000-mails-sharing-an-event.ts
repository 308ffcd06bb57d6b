import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * Events that make several mails (a hand-over mails both people): each mail's record is keyed by
 * a key derived from its event's id, kept unique in `event_id` as before, and names its event in
 * `source_event_id`. Only a column is added, so replicas of the previous release go on as they were.
 * The ALTER waits for an exclusive lock on `deliveries`, which the processors write all the time,
 * and every query on the table would queue behind it: it gives up after MIGRATION_LOCK_TIMEOUT_MS
 * (5 s unless set) instead, and the Job retries.
 */
export class MailsSharingAnEvent1733300000000 implements MigrationInterface {
  name = 'MailsSharingAnEvent1733300000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(`ALTER TABLE deliveries ADD COLUMN source_event_id uuid`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(`ALTER TABLE deliveries DROP COLUMN source_event_id`);
  }
}
