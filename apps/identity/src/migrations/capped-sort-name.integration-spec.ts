import { MAX_NAME_LENGTH, MAX_SORT_NAME_LENGTH } from '#libs/contracts/index.js';
import { lockTimeoutAfter } from '#libs/testing/busy-table.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { CappedSortName1734400000000 } from './1734400000000-capped-sort-name.js';

const db = new IdentityTestDatabase();

beforeAll(() => db.start());
afterAll(() => db.stop());

const migration = new CappedSortName1734400000000();
/** A name folding makes five times longer (unaccent: `rad/s`). */
const GROWING = '㎮'.repeat(MAX_NAME_LENGTH);

async function sortNameOf(firstName: string, lastName: string): Promise<string> {
  const [row] = await db.dataSource.query<Array<{ s: string }>>('SELECT identity.person_sort_name($1, $2) AS s', [firstName, lastName]);
  return row.s;
}

async function sortNames(userId: string): Promise<number[]> {
  const rows = await db.dataSource.query<Array<{ n: number }>>('SELECT length(sort_name) AS n FROM memberships WHERE user_id = $1 ORDER BY account_id', [
    userId,
  ]);
  return rows.map((row) => row.n);
}

describe('migration 1734400000000: the sort name is cut at MAX_SORT_NAME_LENGTH characters', () => {
  it('cuts only names that folding lengthens beyond two names and their space', async () => {
    expect(MAX_SORT_NAME_LENGTH).toBe(201);
    expect(await sortNameOf(GROWING, GROWING)).toBe('rad/s'.repeat(40) + 'r');
    expect(await sortNameOf('É'.repeat(MAX_NAME_LENGTH), 'Ñ'.repeat(MAX_NAME_LENGTH))).toBe(`${'n'.repeat(100)} ${'e'.repeat(100)}`);
  });

  it('goes down (whole folded names again, a waiting membership by the names its account typed) and up (names cut), the lock timeout not left behind', async () => {
    const { userId, accountId } = await db.account();
    const { accountId: inviting } = await db.account();
    await db.dataSource.query('UPDATE users SET first_name = $1, last_name = $1 WHERE id = $2', [GROWING, userId]);
    await db.dataSource.query('INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, false)', [inviting, userId]);
    await db.dataSource.query(
      `INSERT INTO membership_invitations (account_id, user_id, email, first_name, last_name, phone, active) VALUES ($1, $2, 'x@example.test', $3, 'Typed', '+15550001111', true)`,
      [inviting, userId, GROWING],
    );
    await db.dataSource.query(`UPDATE memberships SET sort_name = identity.person_sort_name($3, 'Typed') WHERE account_id = $1 AND user_id = $2`, [
      inviting,
      userId,
      GROWING,
    ]);
    const expected = [accountId, inviting].sort().map((id) => (id === accountId ? 1001 : 'typed '.length + 500));
    expect(await sortNames(userId)).toEqual(expected.map(() => MAX_SORT_NAME_LENGTH));

    expect(await lockTimeoutAfter(db.dataSource, migration, 'down')).toBe('0');
    expect(await sortNames(userId)).toEqual(expected);
    expect(await sortNameOf(GROWING, GROWING)).toHaveLength(1001);

    expect(await lockTimeoutAfter(db.dataSource, migration, 'up')).toBe('0');
    expect(await sortNames(userId)).toEqual(expected.map(() => MAX_SORT_NAME_LENGTH));
  });
});
