import { randomUUID } from 'node:crypto';
import { lockTimeoutAfter } from '#libs/testing/busy-table.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { MembershipInvitations1734200000000 } from './1734200000000-membership-invitations.js';

const db = new IdentityTestDatabase();

beforeAll(() => db.start());
afterAll(() => db.stop());

const migration = new MembershipInvitations1734200000000();

/** A person of one account whose membership of another waits for their consent, as identity writes it. */
async function invited(): Promise<{ accountId: string; userId: string }> {
  const { userId } = await db.account();
  const { accountId } = await db.account();
  await db.dataSource.query('INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, false)', [accountId, userId]);
  await db.dataSource.query(
    `INSERT INTO membership_invitations (account_id, user_id, email, first_name, last_name, phone, active) VALUES ($1, $2, 'x@example.test', 'Typed', 'Name', '+15550001111', true)`,
    [accountId, userId],
  );
  await db.dataSource.query(
    `UPDATE memberships SET search = identity.person_search('Typed', 'Name', 'x@example.test', '+15550001111'), sort_name = 'name typed' WHERE account_id = $1 AND user_id = $2`,
    [accountId, userId],
  );
  return { accountId, userId };
}

async function sortName(key: { accountId: string; userId: string }): Promise<string> {
  const [row] = await db.dataSource.query<Array<{ sort_name: string }>>('SELECT sort_name FROM memberships WHERE account_id = $1 AND user_id = $2', [
    key.accountId,
    key.userId,
  ]);
  return row.sort_name;
}

describe('migration 1734200000000: memberships wait for the consent of someone who has a login', () => {
  it("keeps a waiting membership's typed values when the person renames themselves, and no other", async () => {
    const waiting = await invited();
    const { userId, accountId: home } = await db.account();
    await db.dataSource.query(`UPDATE users SET first_name = 'Renamed' WHERE id IN ($1, $2)`, [waiting.userId, userId]);
    expect(await sortName(waiting)).toBe('name typed');
    expect(await sortName({ accountId: home, userId })).toBe(
      await db.dataSource.query(`SELECT identity.person_sort_name('Renamed', 'Lovelace') AS s`).then(([row]) => row.s),
    );
  });

  it("goes down (the membership shows the person's own values again, the invitation links go) and up again, the lock timeout not left behind", async () => {
    const waiting = await invited();
    await db.dataSource.query(
      `INSERT INTO action_tokens (id, token_hash, purpose, user_id, account_id, expires_at) VALUES ($1, $2, 'invitation', $3, $4, now() + interval '1 day')`,
      [randomUUID(), randomUUID(), waiting.userId, waiting.accountId],
    );
    expect(await lockTimeoutAfter(db.dataSource, migration, 'down')).toBe('0');
    expect(await db.columnsOf('membership_invitations')).toEqual([]);
    expect(await db.dataSource.query(`SELECT 1 FROM action_tokens WHERE purpose = 'invitation'`)).toEqual([]);
    expect(await sortName(waiting)).toBe(await db.dataSource.query(`SELECT identity.person_sort_name('Ada', 'Lovelace') AS s`).then(([row]) => row.s));

    expect(await lockTimeoutAfter(db.dataSource, migration, 'up')).toBe('0');
    expect(await db.columnsOf('membership_invitations')).toContain('active');
  });
});
