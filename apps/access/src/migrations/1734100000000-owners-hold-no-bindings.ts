import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops the bindings of every account owner: the owner holds everything, and a hand-over applied
 * before this release left the new owner the bindings they had, so the roles they held could never
 * be deleted (409 while held, and nobody may unbind the owner). Each account changed gets a new
 * version, so running replicas reload it at their next re-sync. Down changes nothing back.
 */
export class OwnersHoldNoBindings1734100000000 implements MigrationInterface {
  name = 'OwnersHoldNoBindings1734100000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      WITH dropped AS (
        DELETE FROM bindings USING account_owners
         WHERE bindings.account_id = account_owners.account_id
           AND bindings.principal_type = 'user' AND bindings.principal_id = account_owners.user_id
        RETURNING bindings.account_id
      )
      INSERT INTO account_versions (account_id, version) SELECT DISTINCT account_id, 1 FROM dropped
      ON CONFLICT (account_id) DO UPDATE SET version = account_versions.version + 1, changed_at = clock_timestamp()
    `);
  }

  async down(): Promise<void> {
    // The bindings dropped gave nothing the owner did not hold already: there is nothing to restore.
  }
}
