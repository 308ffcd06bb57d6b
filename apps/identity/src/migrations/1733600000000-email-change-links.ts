import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * Links that move a login to another e-mail, and back to the address it left (the undo link mailed there): two more purposes, and the address such a link moves
 * the login to, which only they hold. Adding a nullable column changes no row, and every row there passes both checks (NOT VALID: the table is not scanned
 * under the lock). Resets and invitations write this table, so the lock waits at most MIGRATION_LOCK_TIMEOUT_MS (5 s unless set) (docs/deploy.md); SET LOCAL
 * ends with the migration's transaction. The previous release never reads the column nor writes the purpose.
 */
export class EmailChangeLinks1733600000000 implements MigrationInterface {
  name = 'EmailChangeLinks1733600000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(`
      ALTER TABLE action_tokens
        DROP CONSTRAINT action_tokens_purpose_check,
        ADD CONSTRAINT action_tokens_purpose_check CHECK (purpose IN ('activation', 'reset', 'email-change', 'email-undo')) NOT VALID,
        ADD COLUMN new_email text,
        ADD CONSTRAINT action_tokens_new_email_only_for_email_change
          CHECK ((purpose IN ('email-change', 'email-undo')) = (new_email IS NOT NULL)) NOT VALID;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(`
      DELETE FROM action_tokens WHERE purpose IN ('email-change', 'email-undo');
      ALTER TABLE action_tokens
        DROP CONSTRAINT action_tokens_new_email_only_for_email_change,
        DROP COLUMN new_email,
        DROP CONSTRAINT action_tokens_purpose_check,
        ADD CONSTRAINT action_tokens_purpose_check CHECK (purpose IN ('activation', 'reset'));
    `);
  }
}
