import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two-step sign-in: one authenticator (TOTP) per user or subuser, its recovery codes, and the
 * short-lived `sign-in` link that carries a sign-in from the password to the code. New tables
 * change no row; the purpose check is widened NOT VALID (every row there passes it, the table is
 * not scanned under the lock, which waits at most 5 s as in 1733600000000). The previous release
 * never reads the tables nor writes the purpose.
 */
export class TwoStepSignIn1733700000000 implements MigrationInterface {
  name = 'TwoStepSignIn1733700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`SET LOCAL lock_timeout = '5s'`);
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
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`SET LOCAL lock_timeout = '5s'`);
    await runner.query(`
      DELETE FROM action_tokens WHERE purpose = 'sign-in';
      ALTER TABLE action_tokens
        DROP CONSTRAINT action_tokens_purpose_check,
        ADD CONSTRAINT action_tokens_purpose_check CHECK (purpose IN ('activation', 'reset', 'email-change', 'email-undo')) NOT VALID;
      DROP TABLE recovery_codes;
      DROP TABLE totp_factors;
    `);
  }
}
