import { randomUUID } from 'node:crypto';
import { Events, SUSPENSION_CHANGED, type UserRecord } from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const PASSWORD = 'correct horse battery staple';
const client = { ip: '10.46.0.1' };
const { db, services } = freshIdentityServices();

/** What the adding account types of the person: nothing like their own name and phone. */
const TYPED = { firstName: 'Typed', lastName: 'Byadmin', phone: '+15550001111', role: 'Developer' };

/** Someone with a login, signed in (one session), working in an account of their own, with two steps on. */
async function personWithLogin(): Promise<{ userId: string; email: string; homeAccountId: string }> {
  const { accountId: homeAccountId } = await db.account();
  const userId = randomUUID();
  const email = `p${userId.slice(0, 8)}@consent.test`;
  await db.dataSource.query(
    `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Grace', 'Hopper', '+447700900128', $3, 'active')`,
    [userId, email, `fake:${PASSWORD}`],
  );
  await db.dataSource.query('INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)', [homeAccountId, userId]);
  await services.auth.login({ body: { email, password: PASSWORD }, client });
  await db.dataSource.query('UPDATE users SET second_step = true WHERE id = $1', [userId]);
  return { userId, email, homeAccountId };
}

/** An account whose owner invites `email`; answers what the owner can do there. */
async function invitedBy(email: string) {
  const { accountId, userId: ownerId } = await db.account();
  const actor = services.actor('user', ownerId);
  const { id } = await services.users.create({ actor, accountId, client, body: { ...TYPED, email } });
  const about = { actor, accountId, userId: id, client };
  return {
    accountId,
    userId: id,
    get: () => services.users.get(about),
    search: async (term: string) => (await services.users.list({ actor, accountId, client, query: { search: term } })).items.map((row) => row.id),
    update: (body: { firstName?: string; active?: boolean }) => services.users.update({ ...about, body }),
    resend: () => services.users.resendInvitation(about),
    sendEmail: () => services.users.sendPasswordReset(about),
    endSessions: () => services.users.endSessions(about),
    revoke: () => services.users.revokeInvitation(about),
  };
}

const accept = (token: string) => services.invitations.acceptByLink({ body: { token }, client });
const decline = (token: string) => services.invitations.declineByLink({ body: { token }, client });
const invitationLink = (userId: string) => services.lastLinkToken(Events.UserInvited, userId);

/** Runs `first` and then `second` so that both wait for the person's row, held meanwhile, and get it in that order. */
async function onePersonAtATime(userId: string, first: () => Promise<unknown>, second: () => Promise<unknown>) {
  const side = new SideConnection(db);
  await side.open();
  try {
    return await side.queueBehind('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId], first, second);
  } finally {
    await side.close();
  }
}

/** The token of the latest invitation of `accountId` to `userId`. */
async function linkOf(userId: string, accountId: string): Promise<string> {
  const [row] = await db.dataSource.query<Array<{ token: string }>>(
    `SELECT payload->'data'->>'token' AS token FROM outbox WHERE type = $1 AND payload->'data'->>'userId' = $2 AND payload->'data'->>'accountId' = $3
      ORDER BY created_at DESC LIMIT 1`,
    [Events.UserInvited, userId, accountId],
  );
  return row.token;
}

async function membershipActive(accountId: string, userId: string): Promise<boolean | undefined> {
  const [row] = await db.dataSource.query<Array<{ active: boolean }>>('SELECT active FROM memberships WHERE account_id = $1 AND user_id = $2', [
    accountId,
    userId,
  ]);
  return row?.active;
}

async function latestEvent(type: string, accountId: string): Promise<Record<string, unknown>> {
  const [row] = await db.dataSource.query<Array<{ data: Record<string, unknown> }>>(
    `SELECT payload->'data' AS data FROM outbox WHERE type = $1 AND payload->'data'->>'accountId' = $2 ORDER BY created_at DESC, id DESC LIMIT 1`,
    [type, accountId],
  );
  return row?.data;
}

async function eventCount(type: string, userId: string): Promise<number> {
  const [{ count }] = await db.dataSource.query<Array<{ count: number }>>(
    `SELECT count(*)::int AS count FROM outbox WHERE type = $1 AND payload->'data'->>'userId' = $2`,
    [type, userId],
  );
  return count;
}

describe('adding someone who already has a login waits for their consent', () => {
  it('keeps them out of the account, which sees only what it typed, as it sees a new person (pending, no second step)', async () => {
    const person = await personWithLogin();
    await db.dataSource.query(`UPDATE users SET locale = 'fr' WHERE id = $1`, [person.userId]);
    const typedEmail = person.email.toUpperCase();
    const account = await invitedBy(typedEmail);

    expect(await account.get()).toMatchObject<Partial<UserRecord>>({
      ...{ firstName: TYPED.firstName, lastName: TYPED.lastName, phone: TYPED.phone, email: typedEmail },
      ...{ status: 'pending', active: true, mfaEnabled: false, lastLoginAt: null, owner: false },
    });
    expect(await membershipActive(account.accountId, person.userId)).toBe(false);
    expect(await latestEvent(Events.PrincipalActivityChanged, account.accountId)).toMatchObject({
      changes: [{ principalType: 'user', principalId: person.userId, active: false }],
    });
    // Found by what the account typed, never by the person's own name or phone.
    expect(await account.search('Byadmin')).toEqual([person.userId]);
    expect(await account.search('Hopper')).toEqual([]);
    expect(await account.search('7700900128')).toEqual([]);
    // Their own later changes are theirs alone.
    await db.dataSource.query(`UPDATE users SET first_name = 'Renamed', phone = '+447700900999' WHERE id = $1`, [person.userId]);
    expect(await account.get()).toMatchObject({ firstName: TYPED.firstName, phone: TYPED.phone });
    expect(await account.search('Renamed')).toEqual([]);
    // The same event and audit action as a new person's invitation, addressed as the account typed it, in its language (the delivery log shows both).
    expect(await latestEvent(Events.UserInvited, account.accountId)).toMatchObject({
      ...{ userId: person.userId, hasLogin: true, token: expect.any(String) },
      ...{ email: typedEmail, locale: 'en' },
    });
    const [audited] = await db.dataSource.query<Array<{ action: string }>>('SELECT action FROM audit_events WHERE account_id = $1 AND target_id = $2', [
      account.accountId,
      person.userId,
    ]);
    expect(audited).toEqual({ action: 'user.invited' });
  });

  it('a sign-in meanwhile is no sign-in to that account: not in its audit trail', async () => {
    const person = await personWithLogin();
    const account = await invitedBy(person.email);
    await db.dataSource.query('UPDATE users SET second_step = false WHERE id = $1', [person.userId]);

    await services.auth.login({ body: { email: person.email, password: PASSWORD }, client });

    const seen = await db.dataSource.query('SELECT action FROM audit_events WHERE account_id = $1 AND actor_id = $2', [account.accountId, person.userId]);
    expect(seen).toEqual([]);
    const home = await db.dataSource.query('SELECT action FROM audit_events WHERE account_id = $1 AND actor_id = $2', [person.homeAccountId, person.userId]);
    expect(home).toEqual([{ action: 'login.succeeded' }, { action: 'login.succeeded' }]);
  });

  it('the mailed link accepts it once: they work in the account, which sees them as they are from then on', async () => {
    const person = await personWithLogin();
    const account = await invitedBy(person.email);
    const token = await invitationLink(person.userId);

    await expect(accept(token)).resolves.toEqual({ accountId: account.accountId, accountName: expect.stringContaining('Account ') });

    expect(await membershipActive(account.accountId, person.userId)).toBe(true);
    expect(await account.get()).toMatchObject({
      firstName: 'Grace',
      lastName: 'Hopper',
      phone: '+447700900128',
      status: 'active',
      active: true,
      mfaEnabled: true,
    });
    expect(await account.search('Hopper')).toEqual([person.userId]);
    expect(await account.search('Byadmin')).toEqual([]);
    expect(await latestEvent(Events.PrincipalActivityChanged, account.accountId)).toMatchObject({
      changes: [{ principalType: 'user', principalId: person.userId, active: true }],
    });
    const [joined] = await db.dataSource.query('SELECT actor_id, account_id FROM audit_events WHERE action = $1 AND target_id = $2', [
      'user.joined',
      person.userId,
    ]);
    expect(joined).toEqual({ actor_id: person.userId, account_id: account.accountId });
    await expect(accept(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it("keeps an admin's edits with the invitation: the typed name changes, not theirs; deactivated, they join inactive", async () => {
    const person = await personWithLogin();
    const account = await invitedBy(person.email);

    expect(await account.update({ firstName: 'Retyped', active: false })).toMatchObject({ firstName: 'Retyped', active: false, status: 'pending' });
    expect(await account.search('Retyped')).toEqual([person.userId]);
    const [own] = await db.dataSource.query('SELECT first_name FROM users WHERE id = $1', [person.userId]);
    expect(own).toEqual({ first_name: 'Grace' });
    await expect(account.sendEmail()).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'active' } });

    await accept(await invitationLink(person.userId));

    expect(await membershipActive(account.accountId, person.userId)).toBe(false);
    expect(await account.get()).toMatchObject({ firstName: 'Grace', status: 'active', active: false });
  });

  it('a new link voids the older (re-send and "send email" alike); the account never reaches their password or sessions', async () => {
    const person = await personWithLogin();
    const account = await invitedBy(person.email);
    const first = await invitationLink(person.userId);

    await account.resend();
    const second = await invitationLink(person.userId);
    await expect(accept(first)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await account.sendEmail();
    await expect(accept(second)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await eventCount(Events.UserInvited, person.userId)).toBe(3);
    expect(await eventCount(Events.PasswordResetRequested, person.userId)).toBe(0);
    await expect(account.endSessions()).resolves.toEqual({ ended: 0 });
    expect(await services.openSessions(person.userId)).toBe(1);
    await expect(accept(await invitationLink(person.userId))).resolves.toMatchObject({ accountId: account.accountId });
  });

  it('"send email" re-sends the invitation of a new person as well: the account sees the same whether or not they had a login', async () => {
    const person = await personWithLogin();
    const account = await invitedBy(person.email);
    const { id: newcomerId } = await services.users.create({
      actor: services.actor('user', (await db.dataSource.query(`SELECT owner_user_id AS id FROM accounts WHERE id = $1`, [account.accountId]))[0].id),
      accountId: account.accountId,
      client,
      body: { ...TYPED, email: `new-${person.userId.slice(0, 8)}@consent.test` },
    });
    const [ownerRow] = await db.dataSource.query<Array<{ id: string }>>(`SELECT owner_user_id AS id FROM accounts WHERE id = $1`, [account.accountId]);
    const sendEmail = (userId: string) =>
      services.users.sendPasswordReset({ actor: services.actor('user', ownerRow.id), accountId: account.accountId, userId, client });

    await sendEmail(person.userId);
    await sendEmail(newcomerId);

    for (const userId of [person.userId, newcomerId]) {
      expect(await eventCount(Events.UserInvited, userId)).toBe(2);
      expect(await eventCount(Events.PasswordResetRequested, userId)).toBe(0);
    }
    const actions = await db.dataSource.query<Array<{ target_id: string; action: string }>>(
      `SELECT target_id, action FROM audit_events WHERE account_id = $1 AND target_id = ANY($2) ORDER BY action`,
      [account.accountId, [person.userId, newcomerId]],
    );
    const of = (userId: string) => actions.filter((row) => row.target_id === userId).map((row) => row.action);
    expect(of(person.userId)).toEqual(['user.invitation-resent', 'user.invited']);
    expect(of(newcomerId)).toEqual(of(person.userId));
  });

  it('mails a re-send nowhere once they moved their login to another address: not to the one left, not to the new one; signed in, they still find it', async () => {
    const person = await personWithLogin();
    const account = await invitedBy(person.email);
    await db.dataSource.query(`UPDATE users SET email = $2 WHERE id = $1`, [person.userId, `moved-${person.email}`]);

    await expect(account.resend()).resolves.toEqual({ accepted: true });

    expect(await eventCount(Events.UserInvited, person.userId)).toBe(1);
    expect(await services.invitations.listOwn(services.actor('user', person.userId))).toEqual([expect.objectContaining({ accountId: account.accountId })]);
  });

  it("lets their own account's admin edit their name while another account waits for their answer (that account has no say yet)", async () => {
    const person = await personWithLogin();
    await invitedBy(person.email);
    const [{ ownerId }] = await db.dataSource.query<Array<{ ownerId: string }>>(`SELECT owner_user_id AS "ownerId" FROM accounts WHERE id = $1`, [
      person.homeAccountId,
    ]);

    const edited = await services.users.update({
      actor: services.actor('user', ownerId),
      accountId: person.homeAccountId,
      userId: person.userId,
      client,
      body: { lastName: 'Edited' },
    });

    expect(edited).toMatchObject({ lastName: 'Edited' });
  });

  it('accepting tells the gateways again of their inactive memberships elsewhere (they may sign in from now on)', async () => {
    const person = await personWithLogin();
    const account = await invitedBy(person.email);
    await db.dataSource.query('UPDATE memberships SET active = false WHERE account_id = $1 AND user_id = $2', [person.homeAccountId, person.userId]);
    services.broadcasts.length = 0;

    await accept(await invitationLink(person.userId));

    expect(services.broadcasts).toContainEqual({
      subject: SUSPENSION_CHANGED,
      payload: { accountId: person.homeAccountId, principalType: 'user', principalId: person.userId, suspended: true, changedAt: expect.any(String) },
    });
    expect(services.broadcasts).toContainEqual({
      subject: SUSPENSION_CHANGED,
      payload: { accountId: account.accountId, principalType: 'user', principalId: person.userId, suspended: false, changedAt: expect.any(String) },
    });
  });

  describe('someone another account invited, who has set no password yet', () => {
    /** A new person invited by a first account (in French); a second account then adds the same address, typed its own way. */
    async function invitedTwice() {
      const first = await db.account();
      await db.dataSource.query(`UPDATE accounts SET locale = 'fr' WHERE id = $1`, [first.accountId]);
      const email = `p${randomUUID().slice(0, 8)}@twice.test`;
      const { id: userId } = await services.users.create({
        actor: services.actor('user', first.userId),
        accountId: first.accountId,
        client,
        body: { firstName: 'Prima', lastName: 'Inviter', email, phone: '+33612340001', role: 'Developer' },
      });
      const second = await invitedBy(email.toUpperCase());
      return { userId, email, first, second, firstLink: await linkOf(userId, first.accountId), secondLink: await linkOf(userId, second.accountId) };
    }
    const activate = (token: string) => services.auth.activate({ body: { token, password: 'a long enough passphrase here' }, client });

    it('is shown to the second account as it typed them, mailed at its spelling and in its language, and kept out until they answer', async () => {
      const { userId, email, second } = await invitedTwice();

      expect(await second.get()).toMatchObject({
        firstName: TYPED.firstName,
        lastName: TYPED.lastName,
        phone: TYPED.phone,
        email: email.toUpperCase(),
        status: 'pending',
      });
      expect(await second.search('Inviter')).toEqual([]);
      expect(await membershipActive(second.accountId, userId)).toBe(false);
      const mailed = await latestEvent(Events.UserInvited, second.accountId);
      expect(mailed).toMatchObject({ email: email.toUpperCase(), locale: 'en', firstName: TYPED.firstName });
      expect(mailed).not.toHaveProperty('hasLogin');
    });

    it("the first account's own re-send is in the person's language, whatever that account's is now", async () => {
      const { userId, first } = await invitedTwice();
      await db.dataSource.query(`UPDATE accounts SET locale = 'en' WHERE id = $1`, [first.accountId]);

      await services.users.resendInvitation({ actor: services.actor('user', first.userId), accountId: first.accountId, userId, client });

      expect(await latestEvent(Events.UserInvited, first.accountId)).toMatchObject({ locale: 'fr', firstName: 'Prima' });
    });

    it("activating through the second account's link is their consent to it; through the first's, it still waits", async () => {
      const viaSecond = await invitedTwice();
      await activate(viaSecond.secondLink);
      expect(await membershipActive(viaSecond.second.accountId, viaSecond.userId)).toBe(true);
      expect(await membershipActive(viaSecond.first.accountId, viaSecond.userId)).toBe(true);
      expect(await viaSecond.second.get()).toMatchObject({ firstName: 'Prima', status: 'active' });

      const viaFirst = await invitedTwice();
      await activate(viaFirst.firstLink);
      expect(await membershipActive(viaFirst.first.accountId, viaFirst.userId)).toBe(true);
      expect(await membershipActive(viaFirst.second.accountId, viaFirst.userId)).toBe(false);
      await viaFirst.second.resend();
      expect(await latestEvent(Events.UserInvited, viaFirst.second.accountId)).toMatchObject({ hasLogin: true });
      await expect(accept(await linkOf(viaFirst.userId, viaFirst.second.accountId))).resolves.toMatchObject({ accountId: viaFirst.second.accountId });
    });
  });

  describe('at the same instant', () => {
    it('a re-send and an acceptance queue on the person, never deadlock: the re-send, first, voids the link the acceptance then finds dead', async () => {
      const person = await personWithLogin();
      const account = await invitedBy(person.email);
      const link = await invitationLink(person.userId);
      const outcomes = await onePersonAtATime(person.userId, account.resend, () => accept(link));
      expect(outcomes[0].status).toBe('fulfilled');
      expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { code: 'INVALID_TOKEN' } });
    });

    it('an edit or a re-send that waited for a removal answers 404, as if it came after it (not a 500, not a new link)', async () => {
      const person = await personWithLogin();
      const account = await invitedBy(person.email);
      const [ownerRow] = await db.dataSource.query<Array<{ id: string }>>(`SELECT owner_user_id AS id FROM accounts WHERE id = $1`, [account.accountId]);
      const remove = () => services.users.remove({ actor: services.actor('user', ownerRow.id), accountId: account.accountId, userId: person.userId, client });
      const [removed, edited] = await onePersonAtATime(person.userId, remove, () => account.update({ firstName: 'Late' }));
      expect(removed.status).toBe('fulfilled');
      expect(edited).toMatchObject({ status: 'rejected', reason: { code: 'NOT_FOUND' } });

      const again = await invitedBy(person.email);
      const [againOwner] = await db.dataSource.query<Array<{ id: string }>>(`SELECT owner_user_id AS id FROM accounts WHERE id = $1`, [again.accountId]);
      const removeAgain = () =>
        services.users.remove({ actor: services.actor('user', againOwner.id), accountId: again.accountId, userId: person.userId, client });
      const invitedBefore = await eventCount(Events.UserInvited, person.userId);
      const [, resent] = await onePersonAtATime(person.userId, removeAgain, again.resend);
      expect(resent).toMatchObject({ status: 'rejected', reason: { code: 'NOT_FOUND' } });
      expect(await eventCount(Events.UserInvited, person.userId)).toBe(invitedBefore);
    });

    it('an edit and a removal of the invitation queue on the person, never deadlock: both are done, in that order', async () => {
      const person = await personWithLogin();
      const account = await invitedBy(person.email);
      const [ownerRow] = await db.dataSource.query<Array<{ id: string }>>(`SELECT owner_user_id AS id FROM accounts WHERE id = $1`, [account.accountId]);
      const remove = () => services.users.remove({ actor: services.actor('user', ownerRow.id), accountId: account.accountId, userId: person.userId, client });
      const outcomes = await onePersonAtATime(person.userId, () => account.update({ firstName: 'Retyped' }), remove);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(await membershipActive(account.accountId, person.userId)).toBeUndefined();
    });
  });

  it('revoking it takes them out of the account and voids the link; their login and other accounts stay', async () => {
    const person = await personWithLogin();
    const account = await invitedBy(person.email);
    const token = await invitationLink(person.userId);

    await expect(account.revoke()).resolves.toEqual({ removed: true });

    expect(await membershipActive(account.accountId, person.userId)).toBeUndefined();
    await expect(accept(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await membershipActive(person.homeAccountId, person.userId)).toBe(true);
    expect(await services.openSessions(person.userId)).toBe(1);
  });

  it('declining it with the link takes them out of the account, recorded as their doing; the link then works no more', async () => {
    const person = await personWithLogin();
    const account = await invitedBy(person.email);
    const token = await invitationLink(person.userId);

    await expect(decline(token)).resolves.toEqual({ accountId: account.accountId, userId: person.userId });

    expect(await membershipActive(account.accountId, person.userId)).toBeUndefined();
    const [declined] = await db.dataSource.query('SELECT actor_id, account_id FROM audit_events WHERE action = $1 AND target_id = $2', [
      'user.invitation-declined',
      person.userId,
    ]);
    expect(declined).toEqual({ actor_id: person.userId, account_id: account.accountId });
    await expect(accept(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(decline(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await services.openSessions(person.userId)).toBe(1);
  });

  it('signed in, they list the invitations waiting for them, and accept or decline one by its account; the links of that account then work no more', async () => {
    const person = await personWithLogin();
    const [first, second] = [await invitedBy(person.email), await invitedBy(person.email)];
    const [firstLink, secondLink] = [await linkOf(person.userId, first.accountId), await linkOf(person.userId, second.accountId)];
    const actor = services.actor('user', person.userId);
    const own = (accountId: string) => ({ actor, accountId, client });

    expect(await services.invitations.listOwn(actor)).toEqual([
      { accountId: first.accountId, accountName: expect.any(String), invitedAt: expect.any(String) },
      { accountId: second.accountId, accountName: expect.any(String), invitedAt: expect.any(String) },
    ]);
    await expect(services.invitations.acceptOwn(own(first.accountId))).resolves.toMatchObject({ accountId: first.accountId });
    await expect(services.invitations.declineOwn(own(second.accountId))).resolves.toEqual({ accountId: second.accountId, userId: person.userId });

    expect(await membershipActive(first.accountId, person.userId)).toBe(true);
    expect(await membershipActive(second.accountId, person.userId)).toBeUndefined();
    expect(await services.invitations.listOwn(actor)).toEqual([]);
    await expect(accept(firstLink)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(accept(secondLink)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    // Nothing waits any more, nor ever did from their own account or for a subuser.
    await expect(services.invitations.acceptOwn(own(first.accountId))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(services.invitations.declineOwn(own(person.homeAccountId))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await membershipActive(person.homeAccountId, person.userId)).toBe(true);
    expect(await services.invitations.listOwn(services.actor('subuser', person.userId))).toEqual([]);
  });
});

describe('open sign-up naming someone who already has a login as the owner waits for their consent', () => {
  /** A sign-up, by anyone, of a new account owned by `email`, typed as the sign-up pleases. */
  async function signUpFor(email: string) {
    const slug = `c${randomUUID().slice(0, 8)}`;
    const owner = { firstName: 'Typed', lastName: 'Bysignup', email, phone: '+15550002222' };
    const created = await services.accounts.create({ name: `Account ${slug}`, slug, owner });
    return { ...created, token: await linkOf(created.ownerId, created.id) };
  }

  async function ownerOf(accountId: string): Promise<string> {
    const [{ owner }] = await db.dataSource.query<Array<{ owner: string }>>('SELECT owner_user_id AS owner FROM accounts WHERE id = $1', [accountId]);
    return owner;
  }

  it('keeps them out of it, invited as an account invites them, and it is no account they work in', async () => {
    const person = await personWithLogin();

    const created = await signUpFor(person.email.toUpperCase());

    expect(created.ownerId).toBe(person.userId);
    expect(await membershipActive(created.id, person.userId)).toBe(false);
    expect(await latestEvent(Events.UserInvited, created.id)).toMatchObject({ email: person.email.toUpperCase(), hasLogin: true, userId: person.userId });
    expect(await latestEvent(Events.UserAddedToAccount, created.id)).toBeUndefined();
    expect(await latestEvent(Events.PrincipalActivityChanged, created.id)).toMatchObject({
      changes: [{ principalType: 'user', principalId: person.userId, active: false }],
    });
    const actor = services.actor('user', person.userId);
    expect(await services.invitations.listOwn(actor)).toEqual([{ accountId: created.id, accountName: created.name, invitedAt: expect.any(String) }]);
    // Their own account's admin still ends their sessions: an account they never accepted is none they work in.
    const admin = services.actor('user', await ownerOf(person.homeAccountId));
    await expect(services.users.endSessions({ actor: admin, accountId: person.homeAccountId, userId: person.userId, client })).resolves.toEqual({ ended: 1 });
  });

  it('accepting makes them the owner at work in it', async () => {
    const person = await personWithLogin();
    const created = await signUpFor(person.email);

    await expect(accept(created.token)).resolves.toEqual({ accountId: created.id, accountName: created.name });

    expect(await membershipActive(created.id, person.userId)).toBe(true);
    await expect(services.accounts.get(services.actor('user', person.userId), created.id)).resolves.toMatchObject({
      id: created.id,
      ownerId: person.userId,
    });
  });

  it('declining closes the account: its slug is free again, and their login, sessions and other accounts stay', async () => {
    const person = await personWithLogin();
    const created = await signUpFor(person.email);

    await expect(decline(created.token)).resolves.toEqual({ accountId: created.id, userId: person.userId, accountClosed: true });

    expect(await db.dataSource.query('SELECT id FROM accounts WHERE id = $1', [created.id])).toEqual([]);
    expect(await db.dataSource.query('SELECT user_id FROM memberships WHERE account_id = $1', [created.id])).toEqual([]);
    expect(await latestEvent(Events.AccountClosed, created.id)).toEqual({ accountId: created.id, slug: created.slug, reason: 'owner-declined' });
    expect(await membershipActive(person.homeAccountId, person.userId)).toBe(true);
    expect(await services.openSessions(person.userId)).toBe(1);
    await expect(accept(created.token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    const again = await services.accounts.create({
      name: 'Taken over',
      slug: created.slug,
      owner: { firstName: 'New', lastName: 'Owner', email: `n${randomUUID().slice(0, 8)}@consent.test`, phone: '+15550003333' },
    });
    expect(again.slug).toBe(created.slug);
  });

  it('never deletes an account with anyone else in it (none can be, while its owner has not joined: a guard all the same)', async () => {
    const person = await personWithLogin();
    const created = await signUpFor(person.email);
    const other = await personWithLogin();
    await db.dataSource.query('INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)', [created.id, other.userId]);

    await expect(decline(created.token)).rejects.toMatchObject({ code: 'CONFLICT' });

    expect(await membershipActive(created.id, other.userId)).toBe(true);
    expect(await membershipActive(created.id, person.userId)).toBe(false);
  });

  it('never deletes an account with a service account in it either (its tokens would outlive it at the gateways, their sessions not ended)', async () => {
    const person = await personWithLogin();
    const created = await signUpFor(person.email);
    const serviceAccountId = randomUUID();
    await db.dataSource.query("INSERT INTO service_accounts (id, account_id, name) VALUES ($1, $2, 'left-behind')", [serviceAccountId, created.id]);

    await expect(decline(created.token)).rejects.toMatchObject({ code: 'CONFLICT' });

    expect(await db.dataSource.query('SELECT id FROM service_accounts WHERE id = $1', [serviceAccountId])).toEqual([{ id: serviceAccountId }]);
  });

  it('an account declined signed in goes the same way', async () => {
    const person = await personWithLogin();
    const created = await signUpFor(person.email);

    await expect(services.invitations.declineOwn({ actor: services.actor('user', person.userId), accountId: created.id, client })).resolves.toEqual({
      accountId: created.id,
      userId: person.userId,
      accountClosed: true,
    });
    expect(await db.dataSource.query('SELECT id FROM accounts WHERE id = $1', [created.id])).toEqual([]);
  });
});
