import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How many times an account changed hands: raised by each hand-over, in the update that changes
 * the owner, and sent with its event, so that access applies hand-overs in their order whatever
 * order their events arrive in.
 */
export class OwnerVersion1733100000000 implements MigrationInterface {
  name = 'OwnerVersion1733100000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE accounts ADD COLUMN owner_version integer NOT NULL DEFAULT 0`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE accounts DROP COLUMN owner_version`);
  }
}
