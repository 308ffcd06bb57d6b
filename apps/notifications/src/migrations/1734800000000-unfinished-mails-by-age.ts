import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets the pruning find the mails still `pending` or `sending` whose event left the stream (see
 * `DeliveryStore.abandonOrphans`), oldest first, without reading the lines of mails done: a
 * partial index, as small as the mails under way. Built CONCURRENTLY (outside a transaction), so
 * that mails go on being recorded meanwhile; an invalid index left by a run that stopped half-way
 * is dropped and built again. Only an index is added, so replicas of the previous release go on as
 * they were.
 */
export class UnfinishedMailsByAge1734800000000 implements MigrationInterface {
  name = 'UnfinishedMailsByAge1734800000000';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS deliveries_unfinished_by_age');
    await runner.query(`CREATE INDEX CONCURRENTLY deliveries_unfinished_by_age ON deliveries (created_at) WHERE status IN ('pending', 'sending')`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS deliveries_unfinished_by_age');
  }
}
