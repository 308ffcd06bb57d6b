import { randomUUID } from 'node:crypto';
import { Events } from '#libs/contracts/index.js';
import type { NatsLink } from '#libs/platform/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { TEST_WEB_URL, TestSystem } from '#libs/testing/system.js';
import { bearer, People, type SignedIn } from './helpers/people.js';
import { consumerIdle, envelope, openLink, publish } from './support/notifications.js';

/** Handing an account to another member (ARCHITECTURE: the owner "can transfer ownership"). */
describe('transferring the ownership of an account', () => {
  const system = new TestSystem();
  const people = new People(system);
  let owner: SignedIn;
  let admin: SignedIn;
  let pendingId: string;

  beforeAll(async () => {
    await system.start();
    owner = await people.signUp('handover');
    admin = await people.member(owner, 'admin@handover.test', 'Admin', { firstName: 'Ada' });
    pendingId = await people.invite(owner, { email: 'pending@handover.test', role: 'Support' });
  });
  afterAll(() => system.stop());

  const transfer = (who: SignedIn, body: object) => people.http.post(`/v1/accounts/${owner.accountId}/owner`).set(bearer(who.accessToken)).send(body);
  const mayWriteSubusers = async (who: SignedIn) =>
    (
      await people.http
        .post(`/v1/accounts/${owner.accountId}/access/check`)
        .set(bearer(who.accessToken))
        .send({ section: 'subusers', action: 'write' })
        .expect(200)
    ).body.allowed as boolean;

  it('is refused to anyone but the owner, and towards anyone but an active member with a password', async () => {
    expect((await transfer(admin, { userId: admin.userId, previousOwnerRole: 'Admin' }).expect(403)).body.code).toBe('FORBIDDEN');
    expect((await transfer(owner, { userId: pendingId, previousOwnerRole: 'Admin' }).expect(409)).body.message).toBe(
      'The new owner must be an active member of the account who has set a password',
    );
    await transfer(owner, { userId: randomUUID(), previousOwnerRole: 'Admin' }).expect(404);
    await transfer(owner, { userId: owner.userId, previousOwnerRole: 'Admin' }).expect(409);
    await transfer(owner, { userId: owner.userId.toUpperCase(), previousOwnerRole: 'Admin' }).expect(409);
    expect((await transfer(owner, { userId: admin.userId, previousOwnerRole: 'No such role' }).expect(400)).body.message).toBe(
      'previousOwnerRole: no role "No such role" in this account',
    );
    await transfer(owner, { userId: admin.userId }).expect(400);
    const account = await people.http.get(`/v1/accounts/${owner.accountId}`).set(bearer(owner.accessToken)).expect(200);
    expect(account.body.ownerId).toBe(owner.userId);
  });

  it('hands every permission to the new owner; the previous owner keeps the role they chose, and can be managed like anyone', async () => {
    expect(await mayWriteSubusers(owner)).toBe(true);
    expect(await mayWriteSubusers(admin)).toBe(false);

    const handed = await transfer(owner, { userId: admin.userId, previousOwnerRole: 'admin' }).expect(200);
    expect(handed.body).toMatchObject({ id: owner.accountId, ownerId: admin.userId });

    await eventually('access follows the hand-over', async () => (await mayWriteSubusers(admin)) && !(await mayWriteSubusers(owner)));
    await bothAreMailed();
    const roles = await people.http.get(`/v1/accounts/${owner.accountId}/users/${owner.userId}`).set(bearer(admin.accessToken)).expect(200);
    expect(roles.body).toMatchObject({ owner: false, roles: ['Admin'] });
    // The new owner holds everything, and no longer the role they held before (which could then never be deleted).
    const newOwner = await people.http.get(`/v1/accounts/${owner.accountId}/users/${admin.userId}`).set(bearer(admin.accessToken)).expect(200);
    expect(newOwner.body).toMatchObject({ owner: true, roles: ['MainAccount'] });
    await transfer(owner, { userId: owner.userId, previousOwnerRole: 'Admin' }).expect(403);
    // The new owner may now change the previous one, which nobody could do to an owner.
    await people.http.patch(`/v1/accounts/${owner.accountId}/users/${owner.userId}`).set(bearer(admin.accessToken)).send({ role: 'Support' }).expect(200);
    const audit = await people.http
      .get(`/v1/accounts/${owner.accountId}/audit-events?action=account.ownership-transferred`)
      .set(bearer(admin.accessToken))
      .expect(200);
    expect(audit.body.items).toEqual([expect.objectContaining({ action: 'account.ownership-transferred', actor: { type: 'user', id: owner.userId } })]);
  });

  /** Each person gets their mail about the hand-over: the new owner from whom, the previous one to whom and which role was chosen for them. */
  async function bothAreMailed(): Promise<void> {
    const received = await people.nthMail(admin.email, (mail) => mail.subject.includes('you are now the owner'));
    expect(received.subject).toBe('Portico: you are now the owner of Account handover');
    expect(received.text).toContain('Olive (owner@handover.test) handed the account Account handover on Portico over to you on ');
    const notice = await people.nthMail(owner.email, (mail) => mail.subject.includes('you handed'));
    expect(notice.subject).toBe('Portico: you handed Account handover over to Ada');
    expect(notice.text).toContain('you handed the account Account handover on Portico over to Ada (admin@handover.test).');
    expect(notice.text).toContain('Ada is now its owner; you stay a member of it. The role chosen for you at the hand-over was Admin.');
    expect(notice.links).toContain(`${TEST_WEB_URL}/reset-password`);
    expect(notice.messageId).not.toBe(received.messageId);

    // Both in the delivery log, under the one event that asked for them (recorded sent just after SMTP took them).
    type LogLine = { eventId: string; event: string; template: string; recipient: string; status: string };
    let mails: LogLine[] = [];
    await eventually('both mails to be logged sent', async () => {
      const log = await people.http.get(`/v1/accounts/${owner.accountId}/deliveries`).set(bearer(admin.accessToken)).expect(200);
      mails = (log.body.items as LogLine[]).filter((item) => item.event === Events.OwnershipTransferred);
      return mails.length === 2 && mails.every((item) => item.status === 'sent');
    });
    expect(mails.map(({ template, recipient }) => ({ template, recipient })).sort((a, b) => a.template.localeCompare(b.template))).toEqual([
      { template: 'ownership-handed-over', recipient: 'owner@handover.test' },
      { template: 'ownership-received', recipient: 'admin@handover.test' },
    ]);
    expect(mails[0].eventId).toBe(mails[1].eventId);
  }

  describe('events of hand-overs arriving late or naming a role deleted since', () => {
    let link: NatsLink;
    beforeAll(async () => (link = await openLink(system)));
    afterAll(() => link.close());

    /** Publishes a hand-over event as identity would, and waits until access has applied (or skipped) it. */
    async function handOverEvent(data: { fromUserId: string; toUserId: string; previousOwnerRole: string; ownerVersion: number }) {
      const event = envelope(Events.OwnershipTransferred, owner.accountId, { accountId: owner.accountId, ...data });
      await publish(link, event);
      await eventually(
        'access applies the event',
        async () => (await system.database.query('SELECT 1 FROM access.applied_events WHERE event_id = $1', [event.id])).length === 1,
      );
      // Written as before the hand-over mails: notifications acknowledges it without a mail.
      await consumerIdle(link);
      expect(await system.database.query('SELECT 1 FROM notifications.deliveries WHERE $1 IN (event_id, source_event_id)', [event.id])).toEqual([]);
    }
    const accessOwner = async () =>
      (await system.database.query<{ user_id: string }>('SELECT user_id FROM access.account_owners WHERE account_id = $1', [owner.accountId]))[0].user_id;
    const rolesInAccess = async (userId: string) =>
      (
        await system.database.query<{ role_id: string }>('SELECT role_id FROM access.bindings WHERE account_id = $1 AND principal_id = $2', [
          owner.accountId,
          userId,
        ])
      ).map((row) => row.role_id);

    it('never lets an older hand-over overwrite a newer one', async () => {
      expect(await accessOwner()).toBe(admin.userId);
      await handOverEvent({ fromUserId: admin.userId, toUserId: owner.userId, previousOwnerRole: 'builtin:Support', ownerVersion: 0 });
      expect(await accessOwner()).toBe(admin.userId);
      expect(await mayWriteSubusers(admin)).toBe(true);
      expect(await rolesInAccess(admin.userId)).toEqual([]);
    });

    it('gives the previous owner the broadest built-in role when the chosen one no longer exists, never nothing', async () => {
      await handOverEvent({ fromUserId: admin.userId, toUserId: owner.userId, previousOwnerRole: randomUUID(), ownerVersion: 2 });
      expect(await accessOwner()).toBe(owner.userId);
      expect(await rolesInAccess(admin.userId)).toEqual(['builtin:MainAccount']);
    });
  });
});
