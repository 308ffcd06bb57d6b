import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets the counting of a mail that may wait find the mails waiting before it on its counters
 * (`rate_wait_key`, oldest first): a partial index, as small as the mails waiting for room. Built
 * CONCURRENTLY (outside a transaction), so that mails go on being recorded meanwhile; an invalid
 * index left by a run that stopped half-way is dropped and built again.
 */
export class WaitingMailsByCounter1735500000000 implements MigrationInterface {
  name = 'WaitingMailsByCounter1735500000000';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS deliveries_waiting_by_counter');
    await runner.query(
      `CREATE INDEX CONCURRENTLY deliveries_waiting_by_counter ON deliveries (rate_wait_key, created_at, id)
       WHERE status = 'pending' AND rate_wait_until IS NOT NULL`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS deliveries_waiting_by_counter');
  }
}
