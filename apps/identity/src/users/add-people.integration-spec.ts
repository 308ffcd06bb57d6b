import { randomUUID } from 'node:crypto';
import type { CreatedView } from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const client = { ip: '10.10.0.1' };
const { db, services } = freshIdentityServices();

/** An admin (the owner) of a new account adds the person with `email`. */
async function adder() {
  const { accountId, userId } = await db.account();
  return (email: string) =>
    services.users.create({
      actor: services.actor('user', userId),
      accountId,
      client,
      body: { firstName: 'Grace', lastName: 'Hopper', email, phone: '+447700900124', role: 'Developer' },
    });
}

/** Runs two adds so that the second meets the person the first inserted but has not committed yet. */
async function overlapping(first: () => Promise<CreatedView>, second: () => Promise<CreatedView>): Promise<Array<PromiseSettledResult<CreatedView>>> {
  const side = new SideConnection(db);
  await side.open();
  try {
    await side.holdOutbox();
    const one = first();
    await side.untilWaiting(1);
    const other = second();
    await side.untilWaiting(2);
    await side.release();
    return await Promise.allSettled([one, other]);
  } finally {
    await side.close();
  }
}

describe('two accounts adding the same new person at once', () => {
  it('both add them (201 with the one id), neither says "already a member"', async () => {
    const [addToA, addToB] = await Promise.all([adder(), adder()]);
    const email = `${randomUUID().slice(0, 8)}@example.test`;
    const outcomes = await overlapping(
      () => addToA(email),
      () => addToB(email.toUpperCase()),
    );
    expect(outcomes).toMatchObject([{ status: 'fulfilled' }, { status: 'fulfilled' }]);
    const [a, b] = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<CreatedView>).value.id);
    expect(b).toBe(a);
  });

  it('one account adding the same new person twice at once: the second is "already a member"', async () => {
    const add = await adder();
    const email = `${randomUUID().slice(0, 8)}@example.test`;
    const outcomes = await overlapping(
      () => add(email),
      () => add(email),
    );
    expect(outcomes[0].status).toBe('fulfilled');
    expect(outcomes[1]).toMatchObject({
      status: 'rejected',
      reason: { code: 'CONFLICT', message: 'This person is already a member of this account', details: { field: 'email' } },
    });
  });
});
