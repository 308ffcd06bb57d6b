import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A change counter per account: every committed change of an account's roles, bindings,
 * applications or owner raises it in the same transaction. Replicas compare it with the version
 * they hold, so a change whose `access.changed` broadcast they missed (NATS cut, a writer that died
 * between commit and broadcast) is found and loaded by their periodic re-sync.
 */
export class AccountVersions1732900000000 implements MigrationInterface {
  name = 'AccountVersions1732900000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE account_versions (
        account_id uuid PRIMARY KEY,
        version bigint NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE INDEX account_versions_changed_at ON account_versions (changed_at);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE account_versions`);
  }
}
