import { randomUUID } from 'node:crypto';
import { subuserSignInKeys } from '../credentials/throttle-keys.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const PASSWORD = 'old tangerine lighthouse';
const NEW_PASSWORD = 'new marmalade observatory';
const client = { ip: '10.7.0.1' };
const { db, services } = freshIdentityServices();

/** An account whose owner acts as the admin, with one more active member and one active subuser, both signing in with {@link PASSWORD}. */
async function team() {
  const slug = `r${randomUUID().slice(0, 8)}`;
  const { accountId, userId: ownerId } = await db.account(slug);
  const userId = randomUUID();
  const email = `member-${slug}@example.test`;
  await db.dataSource.query(
    `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Grace', 'Hopper', '+447700900124', $3, 'active')`,
    [userId, email, `fake:${PASSWORD}`],
  );
  await db.dataSource.query(`INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)`, [accountId, userId]);
  const login = 'desk-1';
  const subuserId = await db.subuser(accountId, login);
  await db.dataSource.query(`UPDATE subusers SET password_hash = $2 WHERE id = $1`, [subuserId, `fake:${PASSWORD}`]);
  const admin = services.actor('user', ownerId);
  return { slug, accountId, admin, userId, email, subuserId, login };
}
type Team = Awaited<ReturnType<typeof team>>;

const signInUser = (t: Team) => services.auth.login({ body: { email: t.email, password: PASSWORD }, client });
const signInSubuser = (t: Team) => services.auth.subuserLogin({ body: { account: t.slug, login: t.login, password: PASSWORD }, client });

/** The reasons of the failed sign-ins recorded on `principalId`. */
async function failures(principalId: string): Promise<string[]> {
  await services.auth.refusalsRecorded();
  const rows = await db.dataSource.query<Array<{ reason: string }>>(
    `SELECT details->>'reason' AS reason FROM audit_events WHERE target_id = $1 AND action = 'login.failed'`,
    [principalId],
  );
  return rows.map((row) => row.reason);
}

/** Runs a sign-in whose password check is held until `change` has committed; returns its outcome. */
async function signInAcross<T>(signIn: () => Promise<T>, change: () => Promise<unknown>): Promise<PromiseSettledResult<T>> {
  const held = services.argon2.hold(PASSWORD);
  const attempt = signIn();
  await held.started;
  await change();
  held.release();
  const [outcome] = await Promise.allSettled([attempt]);
  return outcome;
}

describe('a sign-in whose password check was under way when its login changed', () => {
  const userChanges: Array<[string, (t: Team) => Promise<unknown>]> = [
    [
      'a password reset',
      async (t) => {
        const { token } = await db.dataSource.transaction((manager) => services.tokens.issue(manager, { type: 'user', id: t.userId }, null, 'reset'));
        await services.resets.confirm({ body: { token, password: NEW_PASSWORD }, client });
      },
    ],
    [
      'a password change',
      (t) =>
        services.passwords.change({
          actor: services.actor('user', t.userId),
          body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
          client,
        }),
    ],
    ['a deactivation', (t) => services.users.update({ actor: t.admin, accountId: t.accountId, userId: t.userId, client, body: { active: false } })],
    ['a removal', (t) => services.users.remove({ actor: t.admin, accountId: t.accountId, userId: t.userId, client })],
  ];

  it.each(userChanges)('gets no session when %s of the person commits meanwhile: the 401 of a wrong password, audited', async (_change, change) => {
    const t = await team();
    const outcome = await signInAcross(
      () => signInUser(t),
      () => change(t),
    );
    expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'INVALID_CREDENTIALS', message: 'E-mail or password is incorrect' } });
    expect(await services.openSessions(t.userId)).toBe(0);
    expect(await failures(t.userId)).toEqual(['changed-during-sign-in']);
  });

  const subuserChanges: Array<[string, (t: Team) => Promise<unknown>]> = [
    ['a deactivation', (t) => services.subusers.update({ actor: t.admin, accountId: t.accountId, subuserId: t.subuserId, client, body: { active: false } })],
    ['a removal', (t) => services.subusers.remove({ actor: t.admin, accountId: t.accountId, subuserId: t.subuserId, client })],
    [
      'a new password',
      (t) => services.subusers.update({ actor: t.admin, accountId: t.accountId, subuserId: t.subuserId, client, body: { password: NEW_PASSWORD } }),
    ],
  ];

  it.each(subuserChanges)('gets no subuser session when %s of the subuser commits meanwhile', async (_change, change) => {
    const t = await team();
    const outcome = await signInAcross(
      () => signInSubuser(t),
      () => change(t),
    );
    expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'INVALID_CREDENTIALS', message: 'Account, login or password is incorrect' } });
    expect(await services.openSessions(t.subuserId)).toBe(0);
  });

  it('still gets its session when what changed meanwhile does not bar it (a new name, another membership deactivated)', async () => {
    const t = await team();
    const other = await team();
    await db.dataSource.query(`INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)`, [other.accountId, t.userId]);
    const outcome = await signInAcross(
      () => signInUser(t),
      async () => {
        await db.dataSource.query(`UPDATE users SET first_name = 'Amazing Grace' WHERE id = $1`, [t.userId]);
        await services.users.update({ actor: other.admin, accountId: other.accountId, userId: t.userId, client, body: { active: false } });
      },
    );
    expect(outcome.status).toBe('fulfilled');
    expect(await services.openSessions(t.userId)).toBe(1);
  });
});

describe('a removal that starts while the sign-in statement holds the subuser', () => {
  it('waits for it, then ends the session it opened', async () => {
    const t = await team();
    const [identifier] = subuserSignInKeys(t.slug, t.login, client.ip);
    const side = new SideConnection(db);
    await side.open();
    try {
      const held = services.argon2.hold(PASSWORD);
      const attempt = signInSubuser(t);
      await held.started;
      // The statement that opens the session then waits, once it holds the subuser, for the throttling counter held here.
      await side.hold('SELECT 1 FROM throttle_counters WHERE key = $1 FOR UPDATE', [identifier.key]);
      held.release();
      await side.untilWaiting(1);
      const removal = services.subusers.remove({ actor: t.admin, accountId: t.accountId, subuserId: t.subuserId, client });
      await side.untilWaiting(2);
      await side.release();
      await Promise.allSettled([attempt]);
      await removal;
      expect(await services.openSessions(t.subuserId)).toBe(0);
    } finally {
      await side.close();
    }
  });
});

describe('a password change whose current-password check was under way when a reset committed', () => {
  it('changes nothing (409): the password the reset set stays, as do its effects', async () => {
    const t = await team();
    const held = services.argon2.hold(PASSWORD);
    const changing = services.passwords.change({
      actor: services.actor('user', t.userId),
      body: { currentPassword: PASSWORD, newPassword: 'third password of the day' },
      client,
    });
    await held.started;
    const { token } = await db.dataSource.transaction((manager) => services.tokens.issue(manager, { type: 'user', id: t.userId }, null, 'reset'));
    await services.resets.confirm({ body: { token, password: NEW_PASSWORD }, client });
    held.release();
    await expect(changing).rejects.toMatchObject({ code: 'CONFLICT' });
    const [{ hash }] = await db.dataSource.query<Array<{ hash: string }>>('SELECT password_hash AS hash FROM users WHERE id = $1', [t.userId]);
    expect(hash).toBe(`fake:${NEW_PASSWORD}`);
  });
});

describe('a refused sign-in is answered without waiting for its audit row (B2)', () => {
  it('answers a wrong password and a throttled attempt of a known login while the audit table is held, and writes their rows once it is free', async () => {
    const t = await team();
    const wrong = () => services.auth.login({ body: { email: t.email, password: 'not the password' }, client: { ip: '10.7.9.1' } });
    const side = new SideConnection(db);
    await side.open();
    try {
      // The rows of a known login's refusals wait behind this lock; an unknown login writes none: answers must not wait for them.
      await side.hold('LOCK TABLE audit_events IN EXCLUSIVE MODE');
      for (let attempt = 0; attempt < 5; attempt++) await expect(wrong()).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      await expect(wrong()).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
      await side.release();
    } finally {
      await side.close();
    }
    expect(await failures(t.userId)).toEqual(Array(5).fill('wrong-password'));
    const [{ throttled }] = await db.dataSource.query<Array<{ throttled: number }>>(
      `SELECT count(*)::int AS throttled FROM audit_events WHERE target_id = $1 AND action = 'login.throttled'`,
      [t.userId],
    );
    expect(throttled).toBe(1);
  });
});
