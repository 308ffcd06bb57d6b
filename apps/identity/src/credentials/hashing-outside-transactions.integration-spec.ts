import { randomUUID } from 'node:crypto';
import { Events } from '#libs/contracts/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';

const client = { ip: '10.8.0.11' };
const { db, services } = freshIdentityServices();
const PASSWORD = 'violet tractor drifts over quiet hills';
const CURRENT = 'amber lanterns sway above the harbour';

/** Sessions of the test database inside an open transaction with nothing running in it (a transaction held across an await). */
async function idleInTransaction(): Promise<number> {
  const [{ count }] = await db.dataSource.query<Array<{ count: number }>>(
    `SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`,
  );
  return count;
}

/** Runs `flow` with its hash of PASSWORD held (as one waiting in argon2's queue) and counts the transactions left open meanwhile. */
async function transactionsOpenWhileHashing(flow: () => Promise<unknown>): Promise<number> {
  const held = services.argon2.holdHash(PASSWORD);
  const running = flow();
  await held.started;
  const open = await idleInTransaction();
  held.release();
  await running;
  return open;
}

/** The first value `read` gives without throwing, trying for up to 10 s. */
async function eventuallyValue<T>(read: () => Promise<T>): Promise<T> {
  let value: T | undefined;
  await eventually(
    'the value',
    () =>
      read().then(
        (found) => ((value = found), true),
        () => false,
      ),
    10_000,
  );
  return value!;
}

/** A person invited to a new account, not yet active, and their activation link. */
async function invited(): Promise<{ userId: string; token: string }> {
  const owner = await db.account();
  const { id } = await services.users.create({
    actor: services.actor('user', owner.userId),
    accountId: owner.accountId,
    client,
    body: { email: `new-${randomUUID().slice(0, 8)}@example.test`, firstName: 'Pat', lastName: 'Quinn', phone: '+447700900123', role: 'Developer' },
  });
  return { userId: id, token: await services.lastLinkToken(Events.UserInvited, id) };
}

describe('a new password is hashed outside any transaction (argon2 may queue; a transaction waiting would hold a connection)', () => {
  it('when set from an activation link', async () => {
    const { token } = await invited();
    expect(await transactionsOpenWhileHashing(() => services.auth.activate({ body: { token, password: PASSWORD }, client }))).toBe(0);
  });

  it('when set from a reset link', async () => {
    const owner = await db.account();
    const [{ email }] = await db.dataSource.query<Array<{ email: string }>>('SELECT email FROM users WHERE id = $1', [owner.userId]);
    await services.resets.request({ body: { email }, client });
    // The request is answered before its work is done (the same answer, in about the same time, for unknown e-mails).
    const token = await eventuallyValue(() => services.lastLinkToken(Events.PasswordResetRequested, owner.userId));
    expect(await transactionsOpenWhileHashing(() => services.resets.confirm({ body: { token, password: PASSWORD }, client }))).toBe(0);
  });

  it('when changed by its owner', async () => {
    const owner = await db.account();
    await db.dataSource.query('UPDATE users SET password_hash = $2 WHERE id = $1', [owner.userId, `fake:${CURRENT}`]);
    const change = () =>
      services.passwords.change({ actor: services.actor('user', owner.userId), body: { currentPassword: CURRENT, newPassword: PASSWORD }, client });
    expect(await transactionsOpenWhileHashing(change)).toBe(0);
  });

  it("when an admin sets a subuser's", async () => {
    const owner = await db.account();
    const subuserId = await db.subuser(owner.accountId);
    const update = () =>
      services.subusers.update({ actor: services.actor('user', owner.userId), accountId: owner.accountId, subuserId, client, body: { password: PASSWORD } });
    expect(await transactionsOpenWhileHashing(update)).toBe(0);
  });
});

describe('a password that will not be set costs no hash (nobody makes identity hash for nothing)', () => {
  it.each([
    ['an unknown activation link', 'activation'],
    ['an unknown reset link', 'reset'],
  ] as const)('%s', async (_case, purpose) => {
    const before = services.argon2.hashes;
    const body = { token: randomUUID().replaceAll('-', ''), password: PASSWORD };
    const attempt = purpose === 'activation' ? services.auth.activate({ body, client }) : services.resets.confirm({ body, client });
    await expect(attempt).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(services.argon2.hashes).toBe(before);
  });

  it('a good activation link with a password the policy refuses', async () => {
    const { token } = await invited();
    const before = services.argon2.hashes;
    await expect(services.auth.activate({ body: { token, password: 'short' }, client })).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
    expect(services.argon2.hashes).toBe(before);
    // The link was not used up: it still works.
    await expect(services.auth.activate({ body: { token, password: PASSWORD }, client })).resolves.toEqual({ activated: true });
  });

  it("a subuser's new password the policy refuses, or a subuser the admin cannot edit (another account's)", async () => {
    const [owner, other] = [await db.account(), await db.account()];
    const subuserId = await db.subuser(owner.accountId);
    const before = services.argon2.hashes;
    const edit = (accountId: string, actorId: string, password: string) =>
      services.subusers.update({ actor: services.actor('user', actorId), accountId, subuserId, client, body: { password } });
    await expect(edit(owner.accountId, owner.userId, 'short')).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
    await expect(edit(other.accountId, other.userId, PASSWORD)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(services.argon2.hashes).toBe(before);
  });

  it('an activation link of someone active already', async () => {
    const { token, userId } = await invited();
    await db.dataSource.query(`UPDATE users SET status = 'active', password_hash = 'fake:x' WHERE id = $1`, [userId]);
    const before = services.argon2.hashes;
    await expect(services.auth.activate({ body: { token, password: PASSWORD }, client })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(services.argon2.hashes).toBe(before);
  });
});
