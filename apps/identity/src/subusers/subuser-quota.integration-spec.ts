import { randomUUID } from 'node:crypto';
import { freshIdentityServices } from '../database/services-harness-spec.js';

const client = { ip: '10.12.0.1' };
// Room for two subusers an account.
const { db, services } = freshIdentityServices(undefined, { MAX_SUBUSERS_PER_ACCOUNT: '2' });

/** Creates a subuser with an activation mail, as an admin of the account does. */
function create(accountId: string, actorId: string) {
  const login = `desk-${randomUUID().slice(0, 8)}`;
  return services.subusers.create({
    actor: services.actor('user', actorId),
    accountId,
    client,
    body: { login, email: `${login}@quota.test`, roles: ['Developer'] },
  });
}

async function subusersOf(accountId: string): Promise<number> {
  const [{ count }] = await db.dataSource.query<Array<{ count: number }>>('SELECT count(*)::int AS count FROM subusers WHERE account_id = $1', [accountId]);
  return count;
}

describe("an account's subusers (MAX_SUBUSERS_PER_ACCOUNT)", () => {
  it('are let in up to the limit when many are asked at once, the rest refused with 409 naming it', async () => {
    const { accountId, userId } = await db.account();

    const outcomes = await Promise.allSettled([1, 2, 3, 4, 5].map(() => create(accountId, userId)));

    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(2);
    const refusals = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [outcome.reason as { code: string; message: string; details: unknown }] : [],
    );
    expect(refusals.map(({ code, details }) => [code, details])).toEqual(Array.from({ length: 3 }, () => ['CONFLICT', { limit: 2 }]));
    expect(refusals[0].message).toBe('This account has 2 subusers, the most it may have; delete one first');
    expect(await subusersOf(accountId)).toBe(2);
  });

  it("count each account's own, and make room again when one is deleted", async () => {
    const [first, second] = [await db.account(), await db.account()];
    const kept = await create(first.accountId, first.userId);
    await create(first.accountId, first.userId);
    await expect(create(first.accountId, first.userId)).rejects.toMatchObject({ code: 'CONFLICT' });
    await create(second.accountId, second.userId);

    await services.subusers.remove({ actor: services.actor('user', first.userId), accountId: first.accountId, subuserId: kept.id, client });
    await create(first.accountId, first.userId);
    expect(await subusersOf(first.accountId)).toBe(2);
  });
});
