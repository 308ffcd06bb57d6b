import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * Two-step sign-in: one authenticator (TOTP) per user or subuser, its recovery codes, and the
 * short-lived `sign-in` link that carries a sign-in from the password to the code. The principal's
 * own row says whether the second step is on (`second_step`), so that a sign-in's statement, which
 * locks that row, sees it turned on meanwhile as it sees a new password. New tables and columns
 * with a constant default change no row (PostgreSQL 11+); the purpose check is widened NOT VALID
 * (every row there passes it, the table is not scanned under the lock, which waits at most
 * MIGRATION_LOCK_TIMEOUT_MS (5 s unless set) as in 1733600000000). The previous release never reads
 * the tables or columns nor writes the purpose: during a rolling upgrade its replicas sign a person
 * in with the password alone (docs/deploy.md).
 */
export class TwoStepSignIn1733700000000 implements MigrationInterface {
  name = 'TwoStepSignIn1733700000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(`
      CREATE TABLE totp_factors (
        id uuid PRIMARY KEY,
        user_id uuid REFERENCES users(id) ON DELETE CASCADE,
        subuser_id uuid REFERENCES subusers(id) ON DELETE CASCADE,
        secret bytea NOT NULL,
        confirmed_at timestamptz,
        last_used_step bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT totp_factors_one_principal CHECK ((user_id IS NULL) <> (subuser_id IS NULL))
      );
      CREATE UNIQUE INDEX totp_factors_user ON totp_factors (user_id) WHERE user_id IS NOT NULL;
      CREATE UNIQUE INDEX totp_factors_subuser ON totp_factors (subuser_id) WHERE subuser_id IS NOT NULL;
      CREATE TABLE recovery_codes (
        factor_id uuid NOT NULL REFERENCES totp_factors(id) ON DELETE CASCADE,
        code_hash text NOT NULL,
        used_at timestamptz,
        PRIMARY KEY (factor_id, code_hash)
      );
      ALTER TABLE action_tokens
        DROP CONSTRAINT action_tokens_purpose_check,
        ADD CONSTRAINT action_tokens_purpose_check CHECK (purpose IN ('activation', 'reset', 'email-change', 'email-undo', 'sign-in')) NOT VALID;
      ALTER TABLE users ADD COLUMN second_step boolean NOT NULL DEFAULT false;
      ALTER TABLE subusers ADD COLUMN second_step boolean NOT NULL DEFAULT false;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(`
      ALTER TABLE users DROP COLUMN IF EXISTS second_step;
      ALTER TABLE subusers DROP COLUMN IF EXISTS second_step;
      DELETE FROM action_tokens WHERE purpose = 'sign-in';
      ALTER TABLE action_tokens
        DROP CONSTRAINT action_tokens_purpose_check,
        ADD CONSTRAINT action_tokens_purpose_check CHECK (purpose IN ('activation', 'reset', 'email-change', 'email-undo')) NOT VALID;
      DROP TABLE recovery_codes;
      DROP TABLE totp_factors;
    `);
  }
}
