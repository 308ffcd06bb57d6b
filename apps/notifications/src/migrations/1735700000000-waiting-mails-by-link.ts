import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets the voiding of links find the mails waiting for room that carry one (`link_token_hash`): a
 * partial index, as small as the mails waiting. Built CONCURRENTLY (outside a transaction), so that
 * mails go on being recorded meanwhile; an invalid index left by a run that stopped half-way is
 * dropped and built again.
 */
export class WaitingMailsByLink1735700000000 implements MigrationInterface {
  name = 'WaitingMailsByLink1735700000000';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS deliveries_waiting_by_link');
    await runner.query(
      `CREATE INDEX CONCURRENTLY deliveries_waiting_by_link ON deliveries (link_token_hash)
       WHERE status = 'pending' AND rate_wait_until IS NOT NULL`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS deliveries_waiting_by_link');
  }
}
