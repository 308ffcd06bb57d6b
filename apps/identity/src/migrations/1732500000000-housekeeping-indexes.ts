import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Indexes that let housekeeping find expired sessions and old link tokens without reading whole tables. */
export class HousekeepingIndexes1732500000000 implements MigrationInterface {
  name = 'HousekeepingIndexes1732500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE INDEX sessions_expiry ON sessions (expires_at);
      CREATE INDEX action_tokens_age ON action_tokens (created_at);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX sessions_expiry, action_tokens_age`);
  }
}
