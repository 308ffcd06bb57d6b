import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The owner version (identity's count of hand-overs) the owner row was written from: an older hand-over's event never overwrites a newer one. */
export class OwnerVersion1733100000000 implements MigrationInterface {
  name = 'OwnerVersion1733100000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE account_owners ADD COLUMN owner_version integer NOT NULL DEFAULT 0`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE account_owners DROP COLUMN owner_version`);
  }
}
