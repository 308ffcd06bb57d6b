import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * Service accounts (a program's identity in one account) and their API keys, stored hashed
 * (SHA-256 of a 256-bit secret; `hint`: its first characters). A token a key is exchanged for is a
 * session row of the service account naming its key (`sessions.service_account_key_id`), so that
 * the gateways' session gate refuses it at once when the key is revoked or the service account
 * deactivated or deleted. The principal type widens on sessions and audit events; the CHECKs are
 * added NOT VALID (every row passed the narrower ones: no scan under the lock). `sessions` and
 * `audit_events` are written by every sign-in: the ALTERs give up after MIGRATION_LOCK_TIMEOUT_MS
 * (the Job retries) rather than queue them behind their lock.
 */
export class ServiceAccounts1735500000000 implements MigrationInterface {
  name = 'ServiceAccounts1735500000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(`
      CREATE TABLE service_accounts (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        active boolean NOT NULL DEFAULT true,
        created_by_type text CHECK (created_by_type IN ('user', 'subuser', 'service-account')),
        created_by_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      );
      CREATE UNIQUE INDEX service_accounts_account_name ON service_accounts (account_id, lower(name));
      CREATE TABLE service_account_keys (
        id uuid PRIMARY KEY,
        service_account_id uuid NOT NULL REFERENCES service_accounts(id) ON DELETE CASCADE,
        account_id uuid NOT NULL,
        secret_hash text NOT NULL,
        hint text NOT NULL,
        expires_at timestamptz,
        last_used_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX service_account_keys_live ON service_account_keys (service_account_id) WHERE revoked_at IS NULL;
      ALTER TABLE sessions ADD COLUMN service_account_key_id uuid;
      ALTER TABLE sessions DROP CONSTRAINT sessions_principal_type_check;
      ALTER TABLE sessions ADD CONSTRAINT sessions_principal_type_check CHECK (principal_type IN ('user', 'subuser', 'service-account')) NOT VALID;
      ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_type_check;
      ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_type_check CHECK (actor_type IN ('user', 'subuser', 'service-account')) NOT VALID;
      ALTER TABLE audit_events DROP CONSTRAINT audit_events_target_type_check;
      ALTER TABLE audit_events ADD CONSTRAINT audit_events_target_type_check
        CHECK (target_type IN ('user', 'subuser', 'service-account', 'role', 'application')) NOT VALID;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    // The audit rows about service accounts stay, their principal kept in details (serviceAccountId).
    await runner.query(`
      UPDATE audit_events SET details = details || jsonb_build_object('serviceAccountId', target_id), target_type = NULL, target_id = NULL
        WHERE target_type = 'service-account';
      UPDATE audit_events SET details = details || jsonb_build_object('actorServiceAccountId', actor_id), actor_type = NULL, actor_id = NULL
        WHERE actor_type = 'service-account';
      DELETE FROM sessions WHERE principal_type = 'service-account';
      ALTER TABLE audit_events DROP CONSTRAINT audit_events_target_type_check;
      ALTER TABLE audit_events ADD CONSTRAINT audit_events_target_type_check CHECK (target_type IN ('user', 'subuser', 'role', 'application'));
      ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_type_check;
      ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_type_check CHECK (actor_type IN ('user', 'subuser'));
      ALTER TABLE sessions DROP CONSTRAINT sessions_principal_type_check;
      ALTER TABLE sessions ADD CONSTRAINT sessions_principal_type_check CHECK (principal_type IN ('user', 'subuser'));
      ALTER TABLE sessions DROP COLUMN service_account_key_id;
      DROP TABLE service_account_keys;
      DROP TABLE service_accounts;
      DELETE FROM role_holdings WHERE principal_type = 'service-account';
      DELETE FROM role_holding_versions WHERE principal_type = 'service-account';
    `);
  }
}
