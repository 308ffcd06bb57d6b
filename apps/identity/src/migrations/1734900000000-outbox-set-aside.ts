import type { MigrationInterface, QueryRunner } from 'typeorm';
import { outboxSetAsideMigration } from '#libs/outbox/outbox-set-aside.migration.js';

/**
 * Identity's outbox counts failed publishes against a row and sets aside the rows JetStream refuses
 * for good, so that later events no longer wait behind them (libs/outbox; the SQL, shared with
 * access's migration, in {@link outboxSetAsideMigration}).
 */
export class OutboxSetAside1734900000000 implements MigrationInterface {
  name = 'OutboxSetAside1734900000000';

  up(runner: QueryRunner): Promise<void> {
    return outboxSetAsideMigration.up(runner);
  }

  down(runner: QueryRunner): Promise<void> {
    return outboxSetAsideMigration.down(runner);
  }
}
