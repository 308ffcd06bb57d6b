import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The gateway's keys of the creates it may send twice (a person added, a subuser created), each
 * with its account and what it answered (database/request-keys.ts); housekeeping forgets them
 * after a day. A new table: no lock on any table in use, so no lock_timeout; the previous release
 * never reads it.
 */
export class RequestKeys1733500000000 implements MigrationInterface {
  name = 'RequestKeys1733500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE request_keys (
        key uuid PRIMARY KEY,
        account_id uuid NOT NULL,
        result jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX request_keys_age ON request_keys (created_at);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE request_keys`);
  }
}
