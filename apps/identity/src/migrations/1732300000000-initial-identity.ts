import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts, users, memberships, action tokens, sessions, signing keys and the outbox. */
export class InitialIdentity1732300000000 implements MigrationInterface {
  name = 'InitialIdentity1732300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE accounts (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        slug text NOT NULL UNIQUE,
        owner_user_id uuid NOT NULL,
        locale text NOT NULL DEFAULT 'en',
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        email_lower text GENERATED ALWAYS AS (lower(email)) STORED UNIQUE,
        first_name text NOT NULL,
        last_name text NOT NULL,
        phone text NOT NULL,
        password_hash text,
        status text NOT NULL CHECK (status IN ('pending', 'active')),
        locale text NOT NULL DEFAULT 'en',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz
      );
      CREATE TABLE memberships (
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz,
        PRIMARY KEY (account_id, user_id)
      );
      CREATE INDEX memberships_user ON memberships (user_id);
      CREATE TABLE action_tokens (
        id uuid PRIMARY KEY,
        token_hash text NOT NULL UNIQUE,
        purpose text NOT NULL CHECK (purpose IN ('activation', 'reset')),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        account_id uuid REFERENCES accounts(id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        voided_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX action_tokens_user_purpose ON action_tokens (user_id, purpose) WHERE used_at IS NULL AND voided_at IS NULL;
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        principal_type text NOT NULL CHECK (principal_type IN ('user', 'subuser')),
        principal_id uuid NOT NULL,
        account_id uuid,
        refresh_hash text NOT NULL UNIQUE,
        ip text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      );
      CREATE INDEX sessions_principal ON sessions (principal_id) WHERE revoked_at IS NULL;
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        private_pem text NOT NULL,
        public_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz
      );
      CREATE TABLE outbox (
        id uuid PRIMARY KEY,
        type text NOT NULL,
        account_id uuid,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX outbox_by_age ON outbox (created_at);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE outbox, signing_keys, sessions, action_tokens, memberships, users, accounts`);
  }
}
