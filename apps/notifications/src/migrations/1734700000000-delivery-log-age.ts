import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets the delivery log's pruning find the lines past their retention (`DELIVERY_RETENTION_DAYS`),
 * oldest first, without reading the whole table. Built CONCURRENTLY (outside a transaction), so
 * that mails go on being recorded meanwhile; an invalid index left by a run that stopped half-way
 * is dropped and built again. Only an index is added, so replicas of the previous release go on as
 * they were (they prune nothing).
 */
export class DeliveryLogAge1734700000000 implements MigrationInterface {
  name = 'DeliveryLogAge1734700000000';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS deliveries_by_age');
    await runner.query('CREATE INDEX CONCURRENTLY deliveries_by_age ON deliveries (created_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS deliveries_by_age');
  }
}
