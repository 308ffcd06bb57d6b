import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * The user table's sort name is cut at 201 characters (`MAX_SORT_NAME_LENGTH`: two names of 100
 * and their space). Folding may lengthen a name (unaccent writes `㎮` as `rad/s`, five characters
 * for one, more in some releases of its rules), and a cursor holds the sort name of a page's last
 * row: an uncut one could be longer than any cursor the API takes back. Names that folding does not
 * lengthen are never cut; rows whose cut names are equal sort by id, as any tie. Every writer of
 * `sort_name` goes through `identity.person_sort_name`, so a new body of that function is enough;
 * the rows already longer are cut here. Going down writes the whole folded names back.
 */
export class CappedSortName1734400000000 implements MigrationInterface {
  name = 'CappedSortName1734400000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(sortNameFunction("left(identity.fold(last_name || ' ' || first_name), 201)"));
    await runner.query('UPDATE memberships SET sort_name = left(sort_name, 201) WHERE length(sort_name) > 201');
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(sortNameFunction("identity.fold(last_name || ' ' || first_name)"));
    // A cut name is 201 characters long; a waiting membership sorts by the names its account typed.
    await runner.query(`
      UPDATE memberships m
         SET sort_name = (SELECT identity.person_sort_name(COALESCE(i.first_name, u.first_name), COALESCE(i.last_name, u.last_name))
                            FROM users u
                            LEFT JOIN membership_invitations i ON i.account_id = m.account_id AND i.user_id = u.id
                           WHERE u.id = m.user_id)
       WHERE length(m.sort_name) = 201`);
  }
}

/** `identity.person_sort_name` returning `body`. */
function sortNameFunction(body: string): string {
  return `
    CREATE OR REPLACE FUNCTION identity.person_sort_name(first_name text, last_name text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $$ SELECT ${body} $$;`;
}
