import { randomUUID } from 'node:crypto';
import { Events, type EmailChangedData, type EmailChangeRequestedData } from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const PASSWORD = 'correct horse battery staple';
const HOUR = 3600_000;
const { db, services } = freshIdentityServices();

let address = 0;
/** A client address of its own for each call, so that no throttling counter spills from one test to the next. */
const client = () => ({ ip: `10.44.0.${++address}` });

/** An account whose owner (Ada) has PASSWORD, and a fresh address for her to move to. */
async function ada(): Promise<{ accountId: string; userId: string; email: string; newEmail: string }> {
  const slug = `a${randomUUID().slice(0, 8)}`;
  const { accountId, userId } = await db.account(slug);
  await db.dataSource.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, `fake:${PASSWORD}`]);
  return { accountId, userId, email: `${slug}@example.test`, newEmail: `${slug}.new@example.org` };
}

function ask(userId: string, newEmail: string, currentPassword = PASSWORD) {
  return services.emailChanges.request({ actor: services.actor('user', userId), client: client(), body: { newEmail, currentPassword } });
}

function confirm(token: string) {
  return services.emailChanges.confirm({ client: client(), body: { token } });
}

async function loginEmail(userId: string): Promise<string> {
  const [row] = await db.dataSource.query<Array<{ email: string }>>('SELECT email FROM users WHERE id = $1', [userId]);
  return row.email;
}

/** The data of the `type` events about `userId` (their `userId`, or `principalId`) in the outbox, oldest first. */
async function events<T>(type: string, userId: string): Promise<T[]> {
  const rows = await db.dataSource.query<Array<{ data: T }>>(
    `SELECT payload->'data' AS data FROM outbox WHERE type = $1 AND $2 IN (payload->'data'->>'userId', payload->'data'->>'principalId') ORDER BY created_at, id`,
    [type, userId],
  );
  return rows.map((row) => row.data);
}

/** How many e-mail change links of `userId` could still be used. */
async function liveLinks(userId: string): Promise<number> {
  const [{ count }] = await db.dataSource.query<Array<{ count: number }>>(
    `SELECT count(*)::int AS count FROM action_tokens WHERE user_id = $1 AND purpose = 'email-change' AND used_at IS NULL AND voided_at IS NULL`,
    [userId],
  );
  return count;
}

/** `action outcome` of each audit event about `userId`, sorted (the test clock stands still: they share one instant). */
async function auditActions(userId: string): Promise<string[]> {
  const rows = await db.dataSource.query<Array<{ action: string; outcome: string }>>('SELECT action, outcome FROM audit_events WHERE target_id = $1', [userId]);
  return rows.map((row) => `${row.action} ${row.outcome}`).sort();
}

describe("moving a person's login to another e-mail", () => {
  it('needs the current password: a wrong one is refused naming the field, audited, and issues no link', async () => {
    const { userId, newEmail } = await ada();
    await expect(ask(userId, newEmail, 'not my password at all')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'currentPassword' },
    });
    expect(await events(Events.EmailChangeRequested, userId)).toEqual([]);
    expect(await auditActions(userId)).toEqual(['email.change-failed failure']);
  });

  it('mails a link of its own to the new address only, expiring in a day, and changes nothing until it is used', async () => {
    const { userId, email, newEmail } = await ada();
    await expect(ask(userId, newEmail)).resolves.toEqual({ accepted: true });

    const [requested] = await events<EmailChangeRequestedData>(Events.EmailChangeRequested, userId);
    expect(requested).toMatchObject({ email, newEmail, name: 'Ada', inUse: false });
    expect(Date.parse(requested.expiresAt!) - services.clock.now().getTime()).toBe(24 * HOUR);
    const [link] = await db.dataSource.query<Array<{ new_email: string; token_hash: string }>>(
      "SELECT new_email, token_hash FROM action_tokens WHERE user_id = $1 AND purpose = 'email-change'",
      [userId],
    );
    expect(link.new_email).toBe(newEmail);
    expect(link.token_hash).not.toBe(requested.token);
    expect(await loginEmail(userId)).toBe(email);
    expect(await auditActions(userId)).toEqual(['email.change-requested success']);
  });

  it('moves the login with the link: the user table finds the new address, links mailed to the old one stop working, and the old one is told', async () => {
    const { accountId, userId, email, newEmail } = await ada();
    const reset = await db.dataSource.transaction((manager) => services.tokens.issue(manager, { type: 'user', id: userId }, null, 'reset'));
    await ask(userId, newEmail);
    const token = await services.lastLinkToken(Events.EmailChangeRequested, userId);

    await expect(confirm(token)).resolves.toEqual({ email: newEmail });

    expect(await loginEmail(userId)).toBe(newEmail);
    const [member] = await db.dataSource.query<Array<{ email_lower: string; search: string }>>(
      'SELECT email_lower, search FROM memberships WHERE account_id = $1 AND user_id = $2',
      [accountId, userId],
    );
    expect(member.email_lower).toBe(newEmail);
    expect(member.search).toContain('.new@example.org');
    await expect(db.dataSource.transaction((manager) => services.tokens.consume(manager, reset.token, 'reset'))).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    });
    const [changed] = await events<EmailChangedData>(Events.EmailChanged, userId);
    expect(changed).toMatchObject({ previousEmail: email, email: newEmail, name: 'Ada' });
    expect(await auditActions(userId)).toEqual(['email.change-requested success', 'email.changed success']);
    await expect(confirm(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('lets only the newest link work', async () => {
    const { userId, newEmail } = await ada();
    await ask(userId, newEmail);
    const older = await services.lastLinkToken(Events.EmailChangeRequested, userId);
    await ask(userId, `second.${newEmail}`);
    const newer = await services.lastLinkToken(Events.EmailChangeRequested, userId);

    await expect(confirm(older)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(confirm(newer)).resolves.toEqual({ email: `second.${newEmail}` });
  });

  it.each([
    [24 * HOUR - 1, true],
    [24 * HOUR, false],
  ])('lets a link used %i ms after it was mailed work: %s (EMAIL_CHANGE_TOKEN_TTL_HOURS)', async (elapsed, works) => {
    const { userId, email, newEmail } = await ada();
    await ask(userId, newEmail);
    const token = await services.lastLinkToken(Events.EmailChangeRequested, userId);
    services.clock.advance(elapsed);
    if (works) await expect(confirm(token)).resolves.toEqual({ email: newEmail });
    else await expect(confirm(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await loginEmail(userId)).toBe(works ? newEmail : email);
  });

  it('answers the same when the new address already has a login: no link, word to that address in its own language, and older links voided', async () => {
    const { userId, newEmail } = await ada();
    const taken = await ada();
    await db.dataSource.query(`UPDATE users SET locale = 'fr' WHERE id = $1`, [taken.userId]);
    await ask(userId, newEmail);
    const older = await services.lastLinkToken(Events.EmailChangeRequested, userId);

    await expect(ask(userId, taken.email.toUpperCase())).resolves.toEqual({ accepted: true });

    const [, inUse] = await events<EmailChangeRequestedData>(Events.EmailChangeRequested, userId);
    expect(inUse).toMatchObject({ newEmail: taken.email.toUpperCase(), inUse: true, locale: 'fr' });
    expect(inUse.token).toBeUndefined();
    expect(await liveLinks(userId)).toBe(0);
    await expect(confirm(older)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('issues no link when a reset sets another password while the current one is being checked (409): the reset voided every link', async () => {
    const { userId, newEmail } = await ada();
    const reset = await db.dataSource.transaction((manager) => services.tokens.issue(manager, { type: 'user', id: userId }, null, 'reset'));
    const checking = services.argon2.hold(PASSWORD);
    const asking = ask(userId, newEmail);
    await checking.started;
    await services.resets.confirm({ client: client(), body: { token: reset.token, password: 'a brand new pass phrase' } });
    checking.release();

    await expect(asking).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await liveLinks(userId)).toBe(0);
    expect(await events(Events.EmailChangeRequested, userId)).toEqual([]);
  });

  it('mails one address at most three links, whoever asks; past that, silently nothing (the answer stays 202)', async () => {
    const target = `crowded-${randomUUID().slice(0, 8)}@example.org`;
    const people = [await ada(), await ada(), await ada(), await ada()];
    for (const person of people) await expect(ask(person.userId, target)).resolves.toEqual({ accepted: true });
    const mailed = await Promise.all(people.map(async (person) => (await events(Events.EmailChangeRequested, person.userId)).length));
    expect(mailed).toEqual([1, 1, 1, 0]);
  });

  it('refuses with 409 at confirmation when the address was taken meanwhile, and changes nothing', async () => {
    const { userId, email } = await ada();
    const slug = `t${randomUUID().slice(0, 8)}`;
    await ask(userId, `${slug}@example.test`);
    const token = await services.lastLinkToken(Events.EmailChangeRequested, userId);
    await db.account(slug);

    await expect(confirm(token)).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'email' } });
    expect(await loginEmail(userId)).toBe(email);
    expect(await events(Events.EmailChanged, userId)).toEqual([]);
  });

  it('refuses a link of someone no longer active in any account', async () => {
    const { accountId, userId, newEmail } = await ada();
    await ask(userId, newEmail);
    const token = await services.lastLinkToken(Events.EmailChangeRequested, userId);
    await db.dataSource.query('UPDATE memberships SET active = false WHERE account_id = $1 AND user_id = $2', [accountId, userId]);

    await expect(confirm(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('refuses the address the login already has (400), and a subuser (403)', async () => {
    const { accountId, userId, email } = await ada();
    await expect(ask(userId, email.toUpperCase())).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'newEmail' } });
    const subuserId = await db.subuser(accountId);
    await expect(
      services.emailChanges.request({
        actor: services.actor('subuser', subuserId),
        client: client(),
        body: { newEmail: 'ops@example.org', currentPassword: PASSWORD },
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('mails one person at most three links before a wait (429), whatever addresses they name', async () => {
    const { userId, newEmail } = await ada();
    for (let n = 1; n <= 3; n++) await ask(userId, `${n}.${newEmail}`);
    await expect(ask(userId, `4.${newEmail}`)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect(await events(Events.EmailChangeRequested, userId)).toHaveLength(3);
  });
});

describe('moving it back from the notice (undo)', () => {
  /** Ada with a session, her login moved to a new address by its link; the undo link of the notice to the address it left. */
  async function moved() {
    const person = await ada();
    await signIn(person.email);
    await ask(person.userId, person.newEmail);
    await confirm(await services.lastLinkToken(Events.EmailChangeRequested, person.userId));
    const [changed] = await events<EmailChangedData>(Events.EmailChanged, person.userId);
    return { ...person, undo: changed.undoToken! };
  }

  const signIn = (email: string, password = PASSWORD) => services.auth.login({ body: { email, password }, client: client() });
  const undo = (token: string) => services.emailChanges.undo({ client: client(), body: { token } });

  it('moves the login back, ends every session, clears the password and mails a reset link to the address restored', async () => {
    const { userId, email, newEmail, undo: token } = await moved();
    await signIn(newEmail);

    await expect(undo(token)).resolves.toEqual({ email });

    expect(await loginEmail(userId)).toBe(email);
    const [row] = await db.dataSource.query<Array<{ password_hash: string | null }>>('SELECT password_hash FROM users WHERE id = $1', [userId]);
    expect(row.password_hash).toBeNull();
    expect(await services.openSessions(userId)).toBe(0);
    await expect(signIn(email)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    const [reset] = await events<{ email: string; token: string }>(Events.PasswordResetRequested, userId);
    expect(reset.email).toBe(email);
    await services.resets.confirm({ client: client(), body: { token: reset.token, password: 'my own pass phrase again' } });
    await signIn(email, 'my own pass phrase again');
    expect(await auditActions(userId)).toContain('email.change-undone success');
    await expect(undo(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('keeps working whatever was done with the login after the move: a new password, another move; used, it voids the undo link of that later move', async () => {
    const { userId, email, newEmail, undo: token } = await moved();
    await services.passwords.change({
      actor: services.actor('user', userId),
      client: client(),
      body: { currentPassword: PASSWORD, newPassword: 'the new holder pass phrase' },
    });
    await db.dataSource.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, `fake:${PASSWORD}`]);
    await ask(userId, `third.${newEmail}`);
    await confirm(await services.lastLinkToken(Events.EmailChangeRequested, userId));
    expect(await loginEmail(userId)).toBe(`third.${newEmail}`);

    await expect(undo(token)).resolves.toEqual({ email });
    expect(await loginEmail(userId)).toBe(email);
    // The later move's undo link went to an address the mover reads: it must not take the login away again.
    const [, later] = await events<EmailChangedData>(Events.EmailChanged, userId);
    expect(later.previousEmail).toBe(newEmail);
    await expect(undo(later.undoToken!)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await loginEmail(userId)).toBe(email);
  });

  it("keeps the owner's way back when the mover uses the undo link of a later move first", async () => {
    const { userId, email, newEmail, undo: owners } = await moved();
    await ask(userId, `third.${newEmail}`);
    await confirm(await services.lastLinkToken(Events.EmailChangeRequested, userId));
    const [, later] = await events<EmailChangedData>(Events.EmailChanged, userId);

    await expect(undo(later.undoToken!)).resolves.toEqual({ email: newEmail });
    await expect(undo(owners)).resolves.toEqual({ email });
    expect(await loginEmail(userId)).toBe(email);
  });

  it.each([
    [7 * 24 * HOUR - 1, true],
    [7 * 24 * HOUR, false],
  ])('lets an undo link used %i ms after the move work: %s (EMAIL_UNDO_TOKEN_TTL_HOURS)', async (elapsed, works) => {
    const { userId, email, newEmail, undo: token } = await moved();
    services.clock.advance(elapsed);
    if (works) await expect(undo(token)).resolves.toEqual({ email });
    else await expect(undo(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await loginEmail(userId)).toBe(works ? email : newEmail);
  });

  it('is not mailed when EMAIL_UNDO_TOKEN_TTL_HOURS is 0 (the notice then says to tell an administrator), and those mailed before stop working', async () => {
    const before = await moved();
    const configured = db.config.EMAIL_UNDO_TOKEN_TTL_HOURS;
    db.config.EMAIL_UNDO_TOKEN_TTL_HOURS = 0;
    try {
      await expect(undo(before.undo)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
      expect(await loginEmail(before.userId)).toBe(before.newEmail);
      const { userId, newEmail } = await ada();
      await ask(userId, newEmail);
      await confirm(await services.lastLinkToken(Events.EmailChangeRequested, userId));
      const [changed] = await events<EmailChangedData>(Events.EmailChanged, userId);
      expect(changed).toMatchObject({ email: newEmail });
      expect(changed.undoToken).toBeUndefined();
      const [{ count }] = await db.dataSource.query<Array<{ count: number }>>(
        `SELECT count(*)::int AS count FROM action_tokens WHERE user_id = $1 AND purpose = 'email-undo'`,
        [userId],
      );
      expect(count).toBe(0);
    } finally {
      db.config.EMAIL_UNDO_TOKEN_TTL_HOURS = configured;
    }
  });

  it('refuses with 409 when the address left signs in to another login now, and changes nothing', async () => {
    const { userId, email, newEmail, undo: token } = await moved();
    await db.dataSource.query(
      `INSERT INTO users (id, email, first_name, last_name, phone, status) VALUES ($1, $2, 'Eve', 'Other', '+447700900127', 'active')`,
      [randomUUID(), email],
    );

    await expect(undo(token)).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'email' } });
    expect(await loginEmail(userId)).toBe(newEmail);
    expect(await services.openSessions(userId)).toBe(1);
  });
});

describe('flows using links of one person at the same instant', () => {
  it('queue instead of deadlocking: a move confirmed while a reset is confirmed goes first, and the reset link it voided is refused', async () => {
    const { userId, newEmail } = await ada();
    const reset = await db.dataSource.transaction((manager) => services.tokens.issue(manager, { type: 'user', id: userId }, null, 'reset'));
    await ask(userId, newEmail);
    const move = await services.lastLinkToken(Events.EmailChangeRequested, userId);
    const side = new SideConnection(db);
    await side.open();
    try {
      // Without the person's row locked before the link, the reset would hold its link, and wait for the row the move holds next.
      const [moving, resetting] = await side.queueBehind(
        'SELECT 1 FROM users WHERE id = $1 FOR UPDATE',
        [userId],
        () => confirm(move),
        () => services.resets.confirm({ client: client(), body: { token: reset.token, password: 'a brand new pass phrase' } }),
      );
      expect(moving).toEqual({ status: 'fulfilled', value: { email: newEmail } });
      expect(resetting).toMatchObject({ status: 'rejected', reason: { code: 'INVALID_TOKEN' } });
    } finally {
      await side.close();
    }
  });
});
