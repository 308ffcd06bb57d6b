import { randomUUID } from 'node:crypto';
import { Events } from '#libs/contracts/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';

const client = { ip: '10.47.0.1' };
const { db, services } = freshIdentityServices();
/** A password holding the name of the account that invites (`Tiger`), and nothing else the policy refuses. */
const TIGER_PASSWORD = 'the tiger sleeps until noon';

/** An account named `name`, and its owner. */
async function account(name: string): Promise<{ accountId: string; ownerId: string }> {
  const { accountId, userId } = await db.account();
  await db.dataSource.query('UPDATE accounts SET name = $2 WHERE id = $1', [accountId, name]);
  return { accountId, ownerId: userId };
}

/** `inviter` adds the person of `email` (new to Portico, or known: then their membership waits for their consent). */
async function add(inviter: { accountId: string; ownerId: string }, email: string): Promise<string> {
  const body = { email, firstName: 'Grace', lastName: 'Hopper', phone: '+447700900128', role: 'Developer' };
  const { id } = await services.users.create({ actor: services.actor('user', inviter.ownerId), accountId: inviter.accountId, client, body: body as never });
  return id;
}

/** The latest link of `type` mailed to `userId` for `accountId` (any account when null). */
async function mailedLink(type: string, userId: string, accountId: string | null): Promise<string> {
  let token = '';
  await eventually(`a ${type} link`, async () => {
    const rows = await db.dataSource.query<Array<{ token: string }>>(
      `SELECT payload->'data'->>'token' AS token FROM outbox
        WHERE type = $1 AND payload->'data'->>'userId' = $2 AND ($3::text IS NULL OR payload->'data'->>'accountId' = $3)
        ORDER BY created_at DESC LIMIT 1`,
      [type, userId, accountId],
    );
    token = rows[0]?.token ?? '';
    return token !== '';
  });
  return token;
}

/** A reset link the person asks for, once mailed (a newer one than any before). */
async function resetLink(userId: string, email: string): Promise<string> {
  const before = await services.lastLinkToken(Events.PasswordResetRequested, userId).catch(() => '');
  await services.resets.request({ body: { email }, client });
  let token = '';
  await eventually('the reset link', async () => {
    token = await services.lastLinkToken(Events.PasswordResetRequested, userId).catch(() => '');
    return token !== '' && token !== before;
  });
  return token;
}

const confirmReset = (token: string, password: string) => services.resets.confirm({ body: { token, password }, client });

describe("the password rule refusing an account's name", () => {
  it('takes no name from an account whose invitation the person has not accepted: it has no say over their password yet', async () => {
    const home = await account('Panda Works');
    const person = { id: randomUUID(), email: `p${randomUUID().slice(0, 8)}@names.test` };
    await db.dataSource.query(
      `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Grace', 'Hopper', '+447700900128', 'fake:x', 'active')`,
      [person.id, person.email],
    );
    await db.dataSource.query('INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)', [home.accountId, person.id]);
    const inviter = await account('Tiger');
    expect(await add(inviter, person.email)).toBe(person.id);

    await expect(confirmReset(await resetLink(person.id, person.email), TIGER_PASSWORD)).resolves.toEqual({ reset: true });
    // The account they work in still counts.
    const token = await resetLink(person.id, person.email);
    await expect(confirmReset(token, 'a panda works all night long')).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });

    // Once they accept, the inviting account is one of theirs, and its name counts.
    await services.invitations.acceptOwn({ actor: services.actor('user', person.id), accountId: inviter.accountId, client });
    await expect(confirmReset(token, TIGER_PASSWORD)).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
  });

  it("counts the name of the account whose activation link a pending person uses (activating is their consent to it), not another's waiting one", async () => {
    const first = await account('Panda Works');
    const inviter = await account('Tiger');
    const email = `n${randomUUID().slice(0, 8)}@names.test`;
    const id = await add(first, email);
    expect(await add(inviter, email)).toBe(id);
    const inviterLink = await mailedLink(Events.UserInvited, id, inviter.accountId);
    const firstLink = await mailedLink(Events.UserInvited, id, first.accountId);

    await expect(services.auth.activate({ body: { token: inviterLink, password: TIGER_PASSWORD }, client })).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
    await expect(services.auth.activate({ body: { token: firstLink, password: TIGER_PASSWORD }, client })).resolves.toEqual({ activated: true });
  });
});
