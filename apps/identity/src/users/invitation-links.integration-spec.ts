import { randomUUID } from 'node:crypto';
import { Events, linkTokenHash } from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const client = { ip: '10.8.0.10' };
const { db, services } = freshIdentityServices();

/** The activation link of the latest invitation `accountId` sent to `userId`. */
async function invitationLink(accountId: string, userId: string): Promise<string> {
  const [row] = await db.dataSource.query<Array<{ token: string }>>(
    `SELECT payload->'data'->>'token' AS token FROM outbox
      WHERE type = $1 AND account_id = $2 AND payload->'data'->>'userId' = $3
      ORDER BY created_at DESC LIMIT 1`,
    [Events.UserInvited, accountId, userId],
  );
  return row.token;
}

const activate = (token: string) => services.auth.activate({ body: { token, password: 'violet tractor drifts over quiet hills' }, client });

describe('a person invited by two accounts (R4: an invitation is bound to its account)', () => {
  it("keeps account A's link working when B invites, re-sends and revokes; B's re-send voids B's older link only", async () => {
    const [a, b] = [await db.account(), await db.account()];
    const email = `invited-${randomUUID().slice(0, 8)}@example.test`;
    const invite = (account: { accountId: string; userId: string }) =>
      services.users.create({
        actor: services.actor('user', account.userId),
        accountId: account.accountId,
        client,
        body: { email, firstName: 'Pat', lastName: 'Quinn', phone: '+447700900123', role: 'Developer' },
      });
    const { id } = await invite(a);
    const linkOfA = await invitationLink(a.accountId, id);
    await invite(b);
    const firstOfB = await invitationLink(b.accountId, id);
    const asB = { actor: services.actor('user', b.userId), accountId: b.accountId, userId: id, client };
    await services.users.resendInvitation(asB);
    const secondOfB = await invitationLink(b.accountId, id);

    await expect(activate(firstOfB)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await services.users.revokeInvitation(asB);
    await expect(activate(secondOfB)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    const voided = await services.voidedLinkHashes();
    expect([firstOfB, secondOfB].map((token) => voided.has(linkTokenHash(token)))).toEqual([true, true]);
    expect(voided.has(linkTokenHash(linkOfA))).toBe(false);

    await expect(activate(linkOfA)).resolves.toEqual({ activated: true });
  });
});

/** A new account whose owner has invited a new person (pending). */
async function invitedPerson() {
  const account = await db.account();
  const owner = services.actor('user', account.userId);
  const { id } = await services.users.create({
    actor: owner,
    accountId: account.accountId,
    client,
    body: { email: `pending-${randomUUID().slice(0, 8)}@example.test`, firstName: 'Pat', lastName: 'Quinn', phone: '+447700900123', role: 'Developer' },
  });
  return { account, owner, id };
}

describe('an invitation used, re-sent and revoked at the same instant', () => {
  it('queue, never deadlock: both take the person first, then the link; the activation, asked first, goes first, and the revocation then refuses (409)', async () => {
    const { account, owner, id } = await invitedPerson();
    const link = await invitationLink(account.accountId, id);
    const side = new SideConnection(db);
    await side.open();
    try {
      // Without the person locked before its links, the revocation would hold the link, and wait for the person the activation holds.
      const outcomes = await side.queueBehind(
        'SELECT 1 FROM users WHERE id = $1 FOR UPDATE',
        [id],
        () => activate(link),
        () => services.users.revokeInvitation({ actor: owner, accountId: account.accountId, userId: id, client }),
      );
      expect(outcomes[0].status).toBe('fulfilled');
      expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { code: 'CONFLICT', message: 'This person has already activated their access' } });
      const [membership] = await db.dataSource.query('SELECT active FROM memberships WHERE account_id = $1 AND user_id = $2', [account.accountId, id]);
      expect(membership).toEqual({ active: true });
    } finally {
      await side.close();
    }
  });

  it('queue, never deadlock, when an invitation is re-sent while it is revoked: the re-send takes the person before the older link', async () => {
    const { account, owner, id } = await invitedPerson();
    const side = new SideConnection(db);
    await side.open();
    try {
      // The outbox held, the re-send stops after voiding the older link and before writing the new one.
      const outcomes = await side.queueBehind(
        'LOCK TABLE outbox IN EXCLUSIVE MODE',
        [],
        () => services.users.resendInvitation({ actor: owner, accountId: account.accountId, userId: id, client }),
        () => services.users.revokeInvitation({ actor: owner, accountId: account.accountId, userId: id, client }),
      );
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(await db.dataSource.query('SELECT 1 FROM users WHERE id = $1', [id])).toEqual([]);
    } finally {
      await side.close();
    }
  });
});

/**
 * A person new to Portico whom a first account invited, added by a second account as well (a
 * membership waiting for their consent, with its own activation link), which then set them inactive.
 */
async function waitingInactiveInSecondAccount() {
  const [first, second] = [await db.account(), await db.account()];
  const email = `waiting-${randomUUID().slice(0, 8)}@example.test`;
  const body = { email, firstName: 'Pat', lastName: 'Quinn', phone: '+447700900123', role: 'Developer' };
  const { id } = await services.users.create({ actor: services.actor('user', first.userId), accountId: first.accountId, client, body });
  const asSecond = { actor: services.actor('user', second.userId), accountId: second.accountId, userId: id, client };
  await services.users.create({ ...asSecond, body });
  await services.users.update({ ...asSecond, body: { active: false } });
  return { id, second, asSecond };
}

describe('the activation link of an account that deactivated the pending person (the account no longer vouches for them)', () => {
  const pendingOf = async (id: string) => (await db.dataSource.query<Array<{ status: string }>>('SELECT status FROM users WHERE id = $1', [id]))[0].status;

  it('is voided by the deactivation (no mail carries it) and stays dead once reactivated; a re-send then mails one that works', async () => {
    const { account, owner, id } = await invitedPerson();
    const link = await invitationLink(account.accountId, id);
    const request = { actor: owner, accountId: account.accountId, userId: id, client };

    await services.users.update({ ...request, body: { active: false } });

    expect((await services.voidedLinkHashes()).has(linkTokenHash(link))).toBe(true);
    await expect(activate(link)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await services.users.update({ ...request, body: { active: true } });
    await expect(activate(link)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await pendingOf(id)).toBe('pending');
    await services.users.resendInvitation(request);
    await expect(activate(await invitationLink(account.accountId, id))).resolves.toEqual({ activated: true });
  });

  it('is refused at use while the membership is inactive, even if nothing voided it (sent before this rule, or deactivated by the previous release)', async () => {
    const { account, id } = await invitedPerson();
    const link = await invitationLink(account.accountId, id);

    await db.dataSource.query('UPDATE memberships SET active = false WHERE account_id = $1 AND user_id = $2', [account.accountId, id]);

    await expect(activate(link)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await pendingOf(id)).toBe('pending');
  });

  it('is not re-sent while the membership is inactive (409 naming active), as "Send email" and a subuser\'s re-send are not', async () => {
    const { account, owner, id } = await invitedPerson();
    const request = { actor: owner, accountId: account.accountId, userId: id, client };
    await services.users.update({ ...request, body: { active: false } });

    await expect(services.users.resendInvitation(request)).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'active' } });
  });

  it("still works for a membership waiting for the person's consent that the account set inactive: activating joins it inactive, as accepting an invitation does", async () => {
    const { id, second, asSecond } = await waitingInactiveInSecondAccount();

    await expect(activate(await invitationLink(second.accountId, id))).resolves.toEqual({ activated: true });
    expect(await services.users.get(asSecond)).toMatchObject({ status: 'active', active: false });
  });

  it('is not re-sent while the account keeps the person inactive, whether their membership waits for their consent or not (409 naming active, as "Send email")', async () => {
    const { asSecond } = await waitingInactiveInSecondAccount();

    await expect(services.users.resendInvitation(asSecond)).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'active' } });
    await expect(services.users.sendPasswordReset(asSecond)).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'active' } });
    await services.users.update({ ...asSecond, body: { active: true } });
    await expect(services.users.resendInvitation(asSecond)).resolves.toEqual({ accepted: true });
  });
});
