import { randomUUID } from 'node:crypto';
import { Events } from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const client = { ip: '10.9.0.2' };
const { db, services } = freshIdentityServices();

/** An active member (with a password) of the account; their id. */
async function activeMember(accountId: string): Promise<string> {
  const id = randomUUID();
  await db.dataSource.query(
    `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Grace', 'Hopper', '+447700900124', 'x', 'active')`,
    [id, `${id}@example.test`],
  );
  await db.dataSource.query(`INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)`, [accountId, id]);
  return id;
}

const ownerOf = async (accountId: string) =>
  ((await db.dataSource.query(`SELECT owner_user_id FROM accounts WHERE id = $1`, [accountId])) as Array<{ owner_user_id: string }>)[0].owner_user_id;

describe('handing an account over', () => {
  it('changes the owner, and writes the event access applies and notifications mails from, and the audit event, in one transaction', async () => {
    const { accountId, userId: ownerId } = await db.account('handed');
    const next = await activeMember(accountId);
    await db.dataSource.query(`UPDATE users SET locale = 'fr' WHERE id = $1`, [next]);
    const view = await services.accounts.transferOwnership({
      actor: services.actor('user', ownerId),
      accountId,
      client,
      body: { userId: next, previousOwnerRole: 'builtin:Admin' },
      previousOwnerRoleName: 'Admin',
    });
    expect(view.ownerId).toBe(next);
    expect(await ownerOf(accountId)).toBe(next);
    const events = await db.dataSource.query<Array<{ data: unknown }>>(`SELECT payload->'data' AS data FROM outbox WHERE account_id = $1 AND type = $2`, [
      accountId,
      Events.OwnershipTransferred,
    ]);
    expect(events.map((event) => event.data)).toEqual([
      {
        accountId,
        fromUserId: ownerId,
        toUserId: next,
        previousOwnerRole: 'builtin:Admin',
        ownerVersion: 1,
        accountName: 'Account handed',
        previousOwnerRoleName: 'Admin',
        newOwner: { email: `${next}@example.test`, firstName: 'Grace', locale: 'fr' },
        previousOwner: { email: 'handed@example.test', firstName: 'Ada', locale: 'en' },
      },
    ]);
    const audited = await db.dataSource.query<Array<{ actor_id: string; target_id: string }>>(
      `SELECT actor_id, target_id FROM audit_events WHERE account_id = $1 AND action = 'account.ownership-transferred'`,
      [accountId],
    );
    expect(audited).toEqual([{ actor_id: ownerId, target_id: next }]);
  });

  it("is refused to anyone but the owner: another member, a subuser, an owner handing over someone else's account", async () => {
    const { accountId, userId: ownerId } = await db.account();
    const member = await activeMember(accountId);
    const subuser = await db.subuser(accountId);
    const elsewhere = await db.account();
    const handOver = (actor: ReturnType<typeof services.actor>) =>
      services.accounts.transferOwnership({ actor, accountId, client, body: { userId: member, previousOwnerRole: 'builtin:Admin' } });
    await expect(handOver(services.actor('user', member))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(handOver(services.actor('subuser', subuser))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(handOver(services.actor('user', elsewhere.userId))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await ownerOf(accountId)).toBe(ownerId);
  });

  it("refuses another admin's reset mail to the new owner at once, whatever access has applied yet; the owner asks their own", async () => {
    const { accountId, userId: ownerId } = await db.account();
    const next = await activeMember(accountId);
    const admin = await activeMember(accountId);
    await services.accounts.transferOwnership({
      actor: services.actor('user', ownerId),
      accountId,
      client,
      body: { userId: next, previousOwnerRole: 'builtin:Admin' },
      previousOwnerRoleName: 'Admin',
    });
    const sendEmail = (actorId: string) => services.users.sendPasswordReset({ actor: services.actor('user', actorId), accountId, userId: next, client });

    await expect(sendEmail(admin)).rejects.toMatchObject({ code: 'FORBIDDEN', message: "Only the owner asks for the owner's password reset" });
    await expect(sendEmail(ownerId)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(sendEmail(next)).resolves.toEqual({ accepted: true });
  });

  it('counts the hand-overs of an account in the events it writes', async () => {
    const { accountId, userId: first } = await db.account();
    const second = await activeMember(accountId);
    const body = (userId: string) => ({ userId, previousOwnerRole: 'builtin:Admin' });
    await services.accounts.transferOwnership({ actor: services.actor('user', first), accountId, client, body: body(second) });
    await services.accounts.transferOwnership({ actor: services.actor('user', second), accountId, client, body: body(first) });
    const versions = await db.dataSource.query<Array<{ version: number }>>(
      `SELECT (payload->'data'->>'ownerVersion')::int AS version FROM outbox WHERE account_id = $1 AND type = $2 ORDER BY version`,
      [accountId, Events.OwnershipTransferred],
    );
    expect(versions.map((row) => row.version)).toEqual([1, 2]);
  });

  it('never leaves an owner who is not a member: a removal of the new owner under way makes the hand-over wait, then fail', async () => {
    const { accountId, userId: ownerId } = await db.account();
    const next = await activeMember(accountId);
    const side = new SideConnection(db);
    await side.open();
    try {
      // The removal stops, uncommitted, at its audit row, having judged that `next` is not the owner.
      await side.hold('LOCK TABLE audit_events IN SHARE MODE');
      const removal = services.users.remove({ actor: services.actor('user', ownerId), accountId, userId: next, client });
      await side.untilWaiting(1);
      const handOver = services.accounts.transferOwnership({
        actor: services.actor('user', ownerId),
        accountId,
        client,
        body: { userId: next, previousOwnerRole: 'builtin:Admin' },
      });
      await side.untilWaiting(2);
      await side.release();
      await expect(removal).resolves.toEqual({ removed: true });
      await expect(handOver).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await ownerOf(accountId)).toBe(ownerId);
    } finally {
      await side.close();
    }
  });
});
