import { randomUUID } from 'node:crypto';
import { freshIdentityServices } from '../database/services-harness-spec.js';

const PASSWORD = 'correct horse battery staple';
const client = { ip: '10.45.0.1' };
const { db, services } = freshIdentityServices();

/** A person signed in (one session), an active member of each of `accountIds`. */
async function member(...accountIds: string[]): Promise<string> {
  const userId = randomUUID();
  const email = `m${userId.slice(0, 8)}@leave.test`;
  await db.dataSource.query(
    `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Grace', 'Hopper', '+447700900128', $3, 'active')`,
    [userId, email, `fake:${PASSWORD}`],
  );
  for (const accountId of accountIds)
    await db.dataSource.query('INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)', [accountId, userId]);
  await services.auth.login({ body: { email, password: PASSWORD }, client });
  return userId;
}

const leave = (userId: string, accountId: string) => services.users.leave({ actor: services.actor('user', userId), accountId, client });

async function memberships(userId: string): Promise<string[]> {
  const rows = await db.dataSource.query<Array<{ account_id: string }>>('SELECT account_id FROM memberships WHERE user_id = $1', [userId]);
  return rows.map((row) => row.account_id);
}

describe('leaving an account', () => {
  it('takes the person out of that account only, audited; their sessions stay while they work in another', async () => {
    const [first, second] = [await db.account(), await db.account()];
    const userId = await member(first.accountId, second.accountId);

    await expect(leave(userId, first.accountId)).resolves.toEqual({ left: true });

    expect(await memberships(userId)).toEqual([second.accountId]);
    expect(await services.openSessions(userId)).toBe(1);
    const [audited] = await db.dataSource.query<Array<{ action: string; actor_id: string; account_id: string }>>(
      `SELECT action, actor_id, account_id FROM audit_events WHERE target_id = $1 AND action = 'user.left'`,
      [userId],
    );
    expect(audited).toEqual({ action: 'user.left', actor_id: userId, account_id: first.accountId });
    await expect(leave(userId, first.accountId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('ends their sessions when it was the last account they worked in, and keeps the login', async () => {
    const { accountId } = await db.account();
    const userId = await member(accountId);

    await leave(userId, accountId);

    expect(await memberships(userId)).toEqual([]);
    expect(await services.openSessions(userId)).toBe(0);
    expect(await db.dataSource.query('SELECT 1 FROM users WHERE id = $1', [userId])).toHaveLength(1);
  });

  it('refuses the owner (409: hand it over first), a stranger and an inactive member (404), and a subuser (403), changing nothing', async () => {
    const { accountId, userId: ownerId } = await db.account();
    await expect(leave(ownerId, accountId)).rejects.toMatchObject({ code: 'CONFLICT' });
    const stranger = await member((await db.account()).accountId);
    await expect(leave(stranger, accountId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const inactive = await member(accountId);
    await db.dataSource.query('UPDATE memberships SET active = false WHERE account_id = $1 AND user_id = $2', [accountId, inactive]);
    await expect(leave(inactive, accountId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const subuserId = await db.subuser(accountId);
    await expect(services.users.leave({ actor: services.actor('subuser', subuserId), accountId, client })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await memberships(ownerId)).concat(await memberships(inactive))).toEqual([accountId, accountId]);
  });
});
