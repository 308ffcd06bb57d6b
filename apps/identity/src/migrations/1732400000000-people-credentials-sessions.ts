import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The user table's search (pg_trgm + unaccent, kept on memberships by triggers), subusers, link
 * tokens for subusers, rotated refresh tokens, login throttling counters and the audit trail.
 */
export class PeopleCredentialsSessions1732400000000 implements MigrationInterface {
  name = 'PeopleCredentialsSessions1732400000000';

  async up(runner: QueryRunner): Promise<void> {
    // Extensions live in public (one copy per database, whoever needs them); functions are schema-qualified
    // so that index expressions do not depend on the search_path.
    await runner.query(`
      CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
      CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
      CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;

      -- unaccent() is only STABLE (its dictionary could change); pinning the dictionary makes this wrapper safe to declare IMMUTABLE.
      CREATE FUNCTION identity.fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$;
      CREATE FUNCTION identity.person_search(first_name text, last_name text, email text, phone text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT identity.fold(first_name || ' ' || last_name || ' ' || email || ' ' || phone) $$;
      CREATE FUNCTION identity.person_sort_name(first_name text, last_name text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT identity.fold(last_name || ' ' || first_name) $$;

      ALTER TABLE memberships ADD COLUMN search text, ADD COLUMN sort_name text, ADD COLUMN email_lower text;
      UPDATE memberships m
         SET search = identity.person_search(u.first_name, u.last_name, u.email, u.phone),
             sort_name = identity.person_sort_name(u.first_name, u.last_name),
             email_lower = u.email_lower
        FROM users u WHERE u.id = m.user_id;
      ALTER TABLE memberships ALTER COLUMN search SET NOT NULL, ALTER COLUMN sort_name SET NOT NULL, ALTER COLUMN email_lower SET NOT NULL;

      CREATE FUNCTION identity.membership_fill_person() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        SELECT identity.person_search(u.first_name, u.last_name, u.email, u.phone), identity.person_sort_name(u.first_name, u.last_name), u.email_lower
          INTO NEW.search, NEW.sort_name, NEW.email_lower
          FROM identity.users u WHERE u.id = NEW.user_id;
        RETURN NEW;
      END $$;
      CREATE TRIGGER memberships_fill_person BEFORE INSERT ON memberships FOR EACH ROW EXECUTE FUNCTION identity.membership_fill_person();

      CREATE FUNCTION identity.user_refresh_memberships() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE identity.memberships
           SET search = identity.person_search(NEW.first_name, NEW.last_name, NEW.email, NEW.phone),
               sort_name = identity.person_sort_name(NEW.first_name, NEW.last_name),
               email_lower = NEW.email_lower
         WHERE user_id = NEW.id;
        RETURN NULL;
      END $$;
      CREATE TRIGGER users_refresh_memberships AFTER UPDATE OF first_name, last_name, email, phone ON users
        FOR EACH ROW
        WHEN (ROW(OLD.first_name, OLD.last_name, OLD.email, OLD.phone) IS DISTINCT FROM ROW(NEW.first_name, NEW.last_name, NEW.email, NEW.phone))
        EXECUTE FUNCTION identity.user_refresh_memberships();

      CREATE INDEX memberships_by_name ON memberships (account_id, sort_name, user_id);
      CREATE INDEX memberships_by_email ON memberships (account_id, email_lower, user_id);
      CREATE INDEX memberships_by_created ON memberships (account_id, created_at, user_id);
      CREATE INDEX memberships_by_last_login ON memberships (account_id, (COALESCE(last_login_at, '-infinity'::timestamptz)), user_id);
      CREATE INDEX memberships_search ON memberships USING gin (account_id, search public.gin_trgm_ops);
      CREATE INDEX memberships_inactive ON memberships (account_id, user_id) WHERE NOT active;
    `);

    await runner.query(`
      CREATE TABLE subusers (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        login text NOT NULL CHECK (login = lower(login)),
        email text,
        description text NOT NULL DEFAULT '',
        password_hash text,
        status text NOT NULL CHECK (status IN ('pending', 'active')),
        active boolean NOT NULL DEFAULT true,
        locale text NOT NULL DEFAULT 'en',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz,
        CONSTRAINT subusers_account_login UNIQUE (account_id, login)
      );

      ALTER TABLE action_tokens
        ALTER COLUMN user_id DROP NOT NULL,
        ADD COLUMN subuser_id uuid REFERENCES subusers(id) ON DELETE CASCADE,
        ADD CONSTRAINT action_tokens_one_principal CHECK ((user_id IS NULL) <> (subuser_id IS NULL));
      CREATE INDEX action_tokens_subuser_purpose ON action_tokens (subuser_id, purpose) WHERE used_at IS NULL AND voided_at IS NULL;

      ALTER TABLE sessions ADD COLUMN end_reason text;
      CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
      CREATE TABLE retired_refresh_tokens (
        token_hash text PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        retired_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX retired_refresh_tokens_session ON retired_refresh_tokens (session_id);

      CREATE TABLE throttle_counters (
        key text PRIMARY KEY,
        failures integer NOT NULL DEFAULT 0,
        lockouts integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        window_start timestamptz NOT NULL,
        window_count integer NOT NULL DEFAULT 0,
        last_at timestamptz NOT NULL
      );
      CREATE INDEX throttle_counters_last ON throttle_counters (last_at);

      CREATE TABLE audit_events (
        id uuid PRIMARY KEY,
        account_id uuid,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        action text NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
        actor_type text CHECK (actor_type IN ('user', 'subuser')),
        actor_id uuid,
        target_type text CHECK (target_type IN ('user', 'subuser')),
        target_id uuid,
        ip text,
        details jsonb NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_events_by_account ON audit_events (account_id, occurred_at DESC, id DESC);
      CREATE INDEX audit_events_by_target ON audit_events (account_id, target_id, occurred_at DESC);
      CREATE INDEX audit_events_by_actor ON audit_events (account_id, actor_id, occurred_at DESC);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP TABLE audit_events, throttle_counters, retired_refresh_tokens;
      DROP INDEX sessions_revoked;
      ALTER TABLE sessions DROP COLUMN end_reason;
      DELETE FROM action_tokens WHERE subuser_id IS NOT NULL;
      ALTER TABLE action_tokens DROP CONSTRAINT action_tokens_one_principal, DROP COLUMN subuser_id, ALTER COLUMN user_id SET NOT NULL;
      DROP TABLE subusers;
      DROP TRIGGER users_refresh_memberships ON users;
      DROP TRIGGER memberships_fill_person ON memberships;
      DROP FUNCTION identity.user_refresh_memberships(), identity.membership_fill_person();
      DROP INDEX memberships_by_name, memberships_by_email, memberships_by_created, memberships_by_last_login, memberships_search, memberships_inactive;
      ALTER TABLE memberships DROP COLUMN search, DROP COLUMN sort_name, DROP COLUMN email_lower;
      DROP FUNCTION identity.person_sort_name(text, text), identity.person_search(text, text, text, text), identity.fold(text);
    `);
  }
}
