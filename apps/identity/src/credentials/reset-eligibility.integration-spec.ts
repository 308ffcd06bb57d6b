import { randomUUID } from 'node:crypto';
import { Events, linkTokenHash, type Principal } from '#libs/contracts/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const OLD_PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a new and longer passphrase';
const client = { ip: '10.46.0.1' };
const { db, services } = freshIdentityServices();

/** A person with a password, an active member of each of `accountIds`. */
async function member(...accountIds: string[]): Promise<{ id: string; email: string }> {
  const id = randomUUID();
  const email = `m${id.slice(0, 8)}@reset.test`;
  await db.dataSource.query(
    `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Grace', 'Hopper', '+447700900128', $3, 'active')`,
    [id, email, `fake:${OLD_PASSWORD}`],
  );
  for (const accountId of accountIds) await db.dataSource.query('INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)', [accountId, id]);
  return { id, email };
}

/** The link of a reset `principal` asked for itself (by e-mail, or by account and login), once identity has mailed it. */
async function resetLink(principal: Principal, ask: () => Promise<unknown>): Promise<string> {
  await ask();
  let token = '';
  await eventually('the reset link to be mailed', async () => {
    token = await services.lastLinkToken(Events.PasswordResetRequested, principal.id).catch(() => '');
    return token !== '';
  });
  return token;
}

const confirm = (token: string) => services.resets.confirm({ body: { token, password: NEW_PASSWORD }, client });

async function passwordOf(principal: Principal): Promise<string> {
  const table = principal.type === 'user' ? 'users' : 'subusers';
  const [row] = await db.dataSource.query<Array<{ password_hash: string }>>(`SELECT password_hash FROM ${table} WHERE id = $1`, [principal.id]);
  return row.password_hash;
}

describe('a reset link the person asked for themselves (bound to no account)', () => {
  it.each([
    ['removed from their only account', 'remove'],
    ['deactivated in their only account', 'deactivate'],
  ] as const)('is refused as any invalid link once they are %s, and sets no password', async (_label, how) => {
    const { accountId, userId: ownerId } = await db.account();
    const person = await member(accountId);
    const principal = { type: 'user', id: person.id } as const;
    const token = await resetLink(principal, () => services.resets.request({ body: { email: person.email }, client }));

    const request = { actor: services.actor('user', ownerId), accountId, userId: person.id, client };
    if (how === 'remove') await services.users.remove(request);
    else await services.users.update({ ...request, body: { active: false } });

    await expect(confirm(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await passwordOf(principal)).toBe(`fake:${OLD_PASSWORD}`);
  });

  it('works while they are active in another account', async () => {
    const [first, second] = [await db.account(), await db.account()];
    const person = await member(first.accountId, second.accountId);
    const principal = { type: 'user', id: person.id } as const;
    const token = await resetLink(principal, () => services.resets.request({ body: { email: person.email }, client }));

    await services.users.remove({ actor: services.actor('user', first.userId), accountId: first.accountId, userId: person.id, client });

    await expect(confirm(token)).resolves.toEqual({ reset: true });
    expect(await passwordOf(principal)).toBe(`fake:${NEW_PASSWORD}`);
  });

  it('works again for someone reactivated before it expires (they are active somewhere: the rule is judged when it is used)', async () => {
    const { accountId, userId: ownerId } = await db.account();
    const person = await member(accountId);
    const token = await resetLink({ type: 'user', id: person.id }, () => services.resets.request({ body: { email: person.email }, client }));
    const request = { actor: services.actor('user', ownerId), accountId, userId: person.id, client };
    await services.users.update({ ...request, body: { active: false } });
    await expect(confirm(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });

    await services.users.update({ ...request, body: { active: true } });
    await expect(confirm(token)).resolves.toEqual({ reset: true });
  });
});

describe('a reset link an admin sent ("Send email": bound to their account, which vouches for the person)', () => {
  /** A person active in two accounts, and the reset link the owner of the first had sent them. */
  async function sentByFirstAccount() {
    const [first, second] = [await db.account(), await db.account()];
    const person = await member(first.accountId, second.accountId);
    const principal = { type: 'user', id: person.id } as const;
    const asFirst = { actor: services.actor('user', first.userId), accountId: first.accountId, userId: person.id, client };
    const asSecond = { actor: services.actor('user', second.userId), accountId: second.accountId, userId: person.id, client };
    const token = await resetLink(principal, () => services.users.sendPasswordReset(asFirst));
    return { principal, asFirst, asSecond, token };
  }

  it('is voided once that account deactivates them (no mail carries it), though they work in another, and stays dead once reactivated', async () => {
    const { principal, asFirst, token } = await sentByFirstAccount();

    await services.users.update({ ...asFirst, body: { active: false } });

    expect((await services.voidedLinkHashes()).has(linkTokenHash(token))).toBe(true);
    await expect(confirm(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await services.users.update({ ...asFirst, body: { active: true } });
    await expect(confirm(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await passwordOf(principal)).toBe(`fake:${OLD_PASSWORD}`);
  });

  it('is refused at use while they are inactive in that account, even if nothing voided it (sent before this rule, or deactivated by a replica of the previous release)', async () => {
    const { principal, asFirst, token } = await sentByFirstAccount();

    await db.dataSource.query('UPDATE memberships SET active = false WHERE account_id = $1 AND user_id = $2', [asFirst.accountId, principal.id]);

    await expect(confirm(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await passwordOf(principal)).toBe(`fake:${OLD_PASSWORD}`);
  });

  it('is not issued (409 naming active) when that account deactivates them while it is being sent, so no reactivation can bring it back', async () => {
    const [first, second] = [await db.account(), await db.account()];
    const person = await member(first.accountId, second.accountId);
    const asFirst = { actor: services.actor('user', first.userId), accountId: first.accountId, userId: person.id, client };
    const deactivation = new SideConnection(db);
    await deactivation.open();
    try {
      // A deactivation under way, as it locks the person, not yet committed: "Send email" finds them active.
      await deactivation.hold('SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE', [person.id]);
      await deactivation.run('UPDATE memberships SET active = false WHERE account_id = $1 AND user_id = $2', [first.accountId, person.id]);
      const sending = services.users.sendPasswordReset(asFirst);
      await deactivation.untilWaiting(1);
      await deactivation.commit();
      await expect(sending).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'active' } });
    } finally {
      await deactivation.close();
    }
    expect(await db.dataSource.query(`SELECT 1 FROM action_tokens WHERE user_id = $1 AND purpose = 'reset'`, [person.id])).toEqual([]);
  });

  it('works while they are active in that account, whatever another account does', async () => {
    const { principal, asSecond, token } = await sentByFirstAccount();

    await services.users.update({ ...asSecond, body: { active: false } });

    await expect(confirm(token)).resolves.toEqual({ reset: true });
    expect(await passwordOf(principal)).toBe(`fake:${NEW_PASSWORD}`);
  });
});

describe("a subuser's reset link", () => {
  async function subuserWithEmail(): Promise<{ accountId: string; ownerId: string; slug: string; principal: Principal; login: string }> {
    const slug = `r${randomUUID().slice(0, 8)}`;
    const { accountId, userId: ownerId } = await db.account(slug);
    const login = 'desk';
    const id = await db.subuser(accountId, login);
    await db.dataSource.query(`UPDATE subusers SET email = $2, password_hash = $3 WHERE id = $1`, [id, `${slug}-desk@reset.test`, `fake:${OLD_PASSWORD}`]);
    return { accountId, ownerId, slug, principal: { type: 'subuser', id }, login };
  }

  it('works while the subuser is active', async () => {
    const { slug, principal, login } = await subuserWithEmail();
    const token = await resetLink(principal, () => services.resets.requestForSubuser({ body: { account: slug, login }, client }));
    await expect(confirm(token)).resolves.toEqual({ reset: true });
    expect(await passwordOf(principal)).toBe(`fake:${NEW_PASSWORD}`);
  });

  it('is refused once the subuser is deactivated, and stays refused once it is active again (deactivating voided it)', async () => {
    const { accountId, ownerId, slug, principal, login } = await subuserWithEmail();
    const token = await resetLink(principal, () => services.resets.requestForSubuser({ body: { account: slug, login }, client }));
    const request = { actor: services.actor('user', ownerId), accountId, subuserId: principal.id, client };
    await services.subusers.update({ ...request, body: { active: false } });
    await expect(confirm(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await services.subusers.update({ ...request, body: { active: true } });
    await expect(confirm(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await passwordOf(principal)).toBe(`fake:${OLD_PASSWORD}`);
  });
});

describe('a reset link asked for by someone invited who never activated', () => {
  it('sets their first password and activates them, recorded as an activation too', async () => {
    const { accountId } = await db.account();
    const person = await member(accountId);
    await db.dataSource.query(`UPDATE users SET status = 'pending', password_hash = NULL WHERE id = $1`, [person.id]);
    const principal = { type: 'user', id: person.id } as const;
    const token = await resetLink(principal, () => services.resets.request({ body: { email: person.email }, client }));
    await confirm(token);
    const rows = await db.dataSource.query<Array<{ action: string; account_id: string; details: unknown }>>(
      `SELECT action, account_id, details FROM audit_events WHERE target_id = $1 AND action IN ('password.reset', 'user.activated') ORDER BY action`,
      [person.id],
    );
    expect(rows).toEqual([
      { action: 'password.reset', account_id: accountId, details: {} },
      { action: 'user.activated', account_id: accountId, details: { by: 'password-reset' } },
    ]);
    const [{ status }] = await db.dataSource.query<Array<{ status: string }>>('SELECT status FROM users WHERE id = $1', [person.id]);
    expect(status).toBe('active');
  });
});
