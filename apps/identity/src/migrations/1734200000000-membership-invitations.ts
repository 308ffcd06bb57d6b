import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * Adding someone who already has a login asks for their consent: their membership stays inactive,
 * and a `membership_invitations` row holds what the adding account typed (e-mail, name, phone) and
 * whether the membership is to be active once accepted, until they accept with the `invitation`
 * link mailed to them. Meanwhile the user table shows the typed values, not the person's own: the
 * refresh trigger leaves such memberships' search text and sort name alone. A new table, a new
 * function body and a check widened NOT VALID (the table is not scanned under the lock, which
 * waits at most MIGRATION_LOCK_TIMEOUT_MS (5 s unless set) as in 1733600000000). The previous
 * release never reads the table nor writes the purpose: during a rolling upgrade, a person its
 * replicas add is added at once, as before. Going down leaves a membership that waited as an
 * inactive one, showing the person's own values.
 */
export class MembershipInvitations1734200000000 implements MigrationInterface {
  name = 'MembershipInvitations1734200000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(`
      CREATE TABLE membership_invitations (
        account_id uuid NOT NULL,
        user_id uuid NOT NULL,
        email text NOT NULL,
        first_name text NOT NULL,
        last_name text NOT NULL,
        phone text NOT NULL,
        active boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, user_id),
        FOREIGN KEY (account_id, user_id) REFERENCES memberships (account_id, user_id) ON DELETE CASCADE
      );
      ALTER TABLE action_tokens
        DROP CONSTRAINT action_tokens_purpose_check,
        ADD CONSTRAINT action_tokens_purpose_check CHECK (purpose IN ('activation', 'reset', 'email-change', 'email-undo', 'sign-in', 'invitation')) NOT VALID;
    `);
    await runner.query(refreshFunction(true));
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(refreshFunction(false));
    await runner.query(`
      DELETE FROM action_tokens WHERE purpose = 'invitation';
      ALTER TABLE action_tokens
        DROP CONSTRAINT action_tokens_purpose_check,
        ADD CONSTRAINT action_tokens_purpose_check CHECK (purpose IN ('activation', 'reset', 'email-change', 'email-undo', 'sign-in')) NOT VALID;
      UPDATE memberships m
         SET search = identity.person_search(u.first_name, u.last_name, u.email, u.phone),
             sort_name = identity.person_sort_name(u.first_name, u.last_name)
        FROM membership_invitations i JOIN users u ON u.id = i.user_id
       WHERE m.account_id = i.account_id AND m.user_id = i.user_id;
      DROP TABLE membership_invitations;
    `);
  }
}

/** The trigger function that copies a person's name, e-mail and phone to their memberships: `skipInvitations`, all but those awaiting consent. */
function refreshFunction(skipInvitations: boolean): string {
  const awaiting = skipInvitations
    ? `
           AND NOT EXISTS (SELECT 1 FROM identity.membership_invitations i WHERE i.account_id = memberships.account_id AND i.user_id = memberships.user_id)`
    : '';
  return `
      CREATE OR REPLACE FUNCTION identity.user_refresh_memberships() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE identity.memberships
           SET search = identity.person_search(NEW.first_name, NEW.last_name, NEW.email, NEW.phone),
               sort_name = identity.person_sort_name(NEW.first_name, NEW.last_name),
               email_lower = NEW.email_lower
         WHERE user_id = NEW.id${awaiting};
        RETURN NULL;
      END $$;`;
}
