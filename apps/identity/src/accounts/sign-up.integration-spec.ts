import { randomUUID } from 'node:crypto';
import { SUSPENSION_CHANGED, type CreateAccountBody } from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const client = { ip: '10.9.0.1' };
const { db, services } = freshIdentityServices();

const slug = () => `s${randomUUID().slice(0, 8)}`;
const signUp = (email: string, name = slug()): CreateAccountBody => ({
  name: `Account ${name}`,
  slug: name,
  owner: { firstName: 'Ada', lastName: 'Lovelace', email, phone: '+447700900123' },
});

/** A new account whose owner (the admin) has invited a person new to Portico: pending, in that account only. */
async function invitedPerson() {
  const { accountId, userId: adminId } = await db.account();
  const email = `${slug()}@example.test`;
  const { id: personId } = await services.users.create({
    actor: services.actor('user', adminId),
    accountId,
    client,
    body: { firstName: 'Grace', lastName: 'Hopper', email, phone: '+447700900124', role: 'Developer' },
  });
  return { accountId, adminId, email, personId };
}

describe('open sign-up by someone who already has a login', () => {
  it('tells the gateways again that they are suspended where they were deactivated (they may sign in again)', async () => {
    const { accountId, adminId, email, personId } = await invitedPerson();
    await services.users.update({ actor: services.actor('user', adminId), accountId, userId: personId, client, body: { active: false } });
    services.broadcasts.length = 0;
    const created = await services.accounts.create(signUp(email.toUpperCase()));
    expect(created.ownerId).toBe(personId);
    expect(services.broadcasts).toContainEqual({
      subject: SUSPENSION_CHANGED,
      payload: { accountId, principalType: 'user', principalId: personId, suspended: true, changedAt: expect.any(String) },
    });
  });
});

describe('a sign-up meeting the removal of the pending person it names as owner', () => {
  it('creates the owner anew once the removal has forgotten them (no 500)', async () => {
    const { email, personId: pendingId } = await invitedPerson();
    const side = new SideConnection(db);
    await side.open();
    try {
      // The removal holds the person's row, as it does before it deletes a pending person with no other account.
      await side.hold('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [pendingId]);
      const signedUp = services.accounts.create(signUp(email));
      await side.untilWaiting(1);
      await side.run('DELETE FROM memberships WHERE user_id = $1', [pendingId]);
      await side.run('DELETE FROM users WHERE id = $1', [pendingId]);
      await side.commit();
      const created = await signedUp;
      expect(created.ownerId).not.toBe(pendingId);
      const [owner] = await db.dataSource.query<Array<{ email: string; status: string }>>(`SELECT email, status FROM users WHERE id = $1`, [created.ownerId]);
      expect(owner).toEqual({ email, status: 'pending' });
    } finally {
      await side.close();
    }
  });
});

describe('two sign-ups at once with the same new owner e-mail', () => {
  it('both create their account, with the one person as owner (no 500)', async () => {
    const email = `${slug()}@example.test`;
    const side = new SideConnection(db);
    await side.open();
    try {
      // The first stops before its events, with the person inserted but not committed; the second then meets that row.
      await side.holdOutbox();
      const first = services.accounts.create(signUp(email));
      await side.untilWaiting(1);
      const second = services.accounts.create(signUp(email.toUpperCase()));
      await side.untilWaiting(2);
      await side.release();
      const outcomes = await Promise.allSettled([first, second]);
      expect(outcomes).toMatchObject([{ status: 'fulfilled' }, { status: 'fulfilled' }]);
      const [a, b] = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<{ ownerId: string }>).value.ownerId);
      expect(b).toBe(a);
    } finally {
      await side.close();
    }
  });

  it('still answers 409 for a slug taken meanwhile', async () => {
    const name = slug();
    const side = new SideConnection(db);
    await side.open();
    try {
      await side.holdOutbox();
      const first = services.accounts.create(signUp(`${slug()}@example.test`, name));
      await side.untilWaiting(1);
      const second = services.accounts.create(signUp(`${slug()}@example.test`, name));
      await side.untilWaiting(2);
      await side.release();
      await expect(first).resolves.toMatchObject({ slug: name });
      await expect(second).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'slug' } });
    } finally {
      await side.close();
    }
  });
});

describe('the audit row of an open sign-up', () => {
  it('records the address that signed up, for a new person and for someone Portico knew already', async () => {
    const { email } = await invitedPerson();
    const created = [
      await services.accounts.create(signUp(`${slug()}@example.test`), '203.0.113.7'),
      await services.accounts.create(signUp(email), '203.0.113.8'),
    ];
    for (const [i, account] of created.entries()) {
      const audited = await db.dataSource.query<Array<{ ip: string | null }>>(
        `SELECT ip FROM audit_events WHERE account_id = $1 AND action = 'account.created'`,
        [account.id],
      );
      expect(audited).toEqual([{ ip: `203.0.113.${7 + i}` }]);
    }
  });
});
