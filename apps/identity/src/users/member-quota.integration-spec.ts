import { randomUUID } from 'node:crypto';
import { freshIdentityServices } from '../database/services-harness-spec.js';

const client = { ip: '10.12.0.2' };
// Room for three people an account: the owner and two more.
const { db, services } = freshIdentityServices(undefined, { MAX_MEMBERS_PER_ACCOUNT: '3' });

/** Adds a new person to the account, as its owner does (with a request key when given, as the gateway sends one). */
function add(accountId: string, ownerId: string, email = `${randomUUID().slice(0, 8)}@quota.test`, requestKey?: string) {
  return services.users.create({
    actor: services.actor('user', ownerId),
    accountId,
    client,
    body: { firstName: 'Grace', lastName: 'Hopper', email, phone: '+447700900124', role: 'Viewer' },
    ...(requestKey && { requestKey }),
  });
}

async function membersOf(accountId: string): Promise<number> {
  const [{ count }] = await db.dataSource.query<Array<{ count: number }>>('SELECT count(*)::int AS count FROM memberships WHERE account_id = $1', [accountId]);
  return count;
}

describe("an account's people (MAX_MEMBERS_PER_ACCOUNT)", () => {
  it('are let in up to the limit when many are added at once, the rest refused with 409 naming it, and nothing of theirs is kept', async () => {
    const { accountId, userId } = await db.account();
    const emails = Array.from({ length: 5 }, (_, i) => `crowd-${i}-${randomUUID().slice(0, 8)}@quota.test`);

    const outcomes = await Promise.allSettled(emails.map((email) => add(accountId, userId, email)));

    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(2);
    const refusals = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [outcome.reason as { code: string; message: string; details: unknown }] : [],
    );
    expect(refusals.map(({ code, details }) => [code, details])).toEqual(Array.from({ length: 3 }, () => ['CONFLICT', { limit: 3 }]));
    expect(refusals[0].message).toBe('This account has 3 people, the most it may have; remove someone first');
    expect(await membersOf(accountId)).toBe(3);
    // A refused add leaves no login behind either.
    const [{ logins }] = await db.dataSource.query<Array<{ logins: number }>>('SELECT count(*)::int AS logins FROM users WHERE email = ANY($1)', [emails]);
    expect(logins).toBe(2);
  });

  it("count each account's own, and make room again when someone is removed", async () => {
    const [first, second] = [await db.account(), await db.account()];
    const kept = await add(first.accountId, first.userId);
    await add(first.accountId, first.userId);
    await expect(add(first.accountId, first.userId)).rejects.toMatchObject({ code: 'CONFLICT' });
    await add(second.accountId, second.userId);

    await services.users.remove({ actor: services.actor('user', first.userId), accountId: first.accountId, userId: kept.id, client });
    await add(first.accountId, first.userId);
    expect(await membersOf(first.accountId)).toBe(3);
  });

  it('still says who is already a member, and still answers an add sent again with its request key, once the account is full', async () => {
    const { accountId, userId } = await db.account();
    const email = `again-${randomUUID().slice(0, 8)}@quota.test`;
    const key = randomUUID();
    const done = await add(accountId, userId, email, key);
    await add(accountId, userId);

    await expect(add(accountId, userId, email)).rejects.toMatchObject({ code: 'CONFLICT', message: 'This person is already a member of this account' });
    expect(await add(accountId, userId, email, key)).toEqual(done);
    expect(await membersOf(accountId)).toBe(3);
  });
});
