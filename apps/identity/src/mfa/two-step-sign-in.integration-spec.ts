import { randomBytes, randomUUID } from 'node:crypto';
import { Events, type Principal, type SecondStepView, type TokenPairView } from '#libs/contracts/index.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';
import { pino, type Logger } from 'pino';
import { hashSecretToken } from '../credentials/secret-token.js';
import { ThrottleService } from '../credentials/throttle.service.js';
import { Housekeeping } from '../database/housekeeping.js';
import { FactorSecrets } from './factor-secrets.js';
import { base32Decode, hotp, totpCode, totpStep } from './totp.js';
import { WRONG_CODE_WINDOW_DAYS } from './totp-factors.js';

const PASSWORD = 'correct horse battery staple';
const STEP_MS = 30_000;
/** MFA_BLOCK_AFTER_WRONG_CODES here: one more than the throttle's threshold, so that reaching it waits out a lockout. */
const BLOCK_AFTER = 6;
const { db, services } = freshIdentityServices(undefined, { MFA_BLOCK_AFTER_WRONG_CODES: String(BLOCK_AFTER) });

let address = 0;
/** A client address of its own for each call, so that no address counter spills from one test to the next. */
const client = () => ({ ip: `10.45.${Math.floor(++address / 250)}.${address % 250}` });

interface Person {
  accountId: string;
  userId: string;
  email: string;
}

/** An account whose owner (Ada) has PASSWORD. */
async function ada(): Promise<Person> {
  const slug = `a${randomUUID().slice(0, 8)}`;
  const { accountId, userId } = await db.account(slug);
  await db.dataSource.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, `fake:${PASSWORD}`]);
  return { accountId, userId, email: `${slug}@example.test` };
}

const actorOf = (principal: Principal) => services.actor(principal.type, principal.id);

/** Sets up and confirms an authenticator for `principal`: its secret and recovery codes. */
async function turnOn(principal: Principal): Promise<{ secret: Buffer; recoveryCodes: string[] }> {
  const enrolment = await services.mfa.startTotp({ actor: actorOf(principal), client: client(), body: { currentPassword: PASSWORD } });
  const secret = base32Decode(enrolment.secret)!;
  const { recoveryCodes } = await services.mfa.confirmTotp({
    actor: actorOf(principal),
    client: client(),
    body: { code: totpCode(secret, services.clock.now()) },
  });
  // The code of this step is used up: the next sign-in types the next one.
  services.clock.advance(STEP_MS);
  return { secret, recoveryCodes };
}

function login(email: string, ip = client().ip) {
  return services.auth.login({ client: { ip }, body: { email, password: PASSWORD } });
}

async function challengeOf(email: string): Promise<string> {
  const answer = await login(email);
  expect(answer).toMatchObject({ mfaRequired: true });
  return (answer as SecondStepView).challenge;
}

function secondStep(challenge: string, code: string, ip = client().ip) {
  return services.auth.secondStep({ client: { ip }, body: { challenge, code } });
}

const now = () => services.clock.now();

/** Sets a new password through a reset link, as its mail's reader does. */
async function resetPassword(userId: string, password: string): Promise<void> {
  const { token } = await db.dataSource.transaction((manager) => services.tokens.issue(manager, { type: 'user', id: userId }, null, 'reset'));
  await services.resets.confirm({ client: client(), body: { token, password } });
}

/** `action outcome` of each audit event about `principalId`, sorted. */
async function auditActions(principalId: string): Promise<string[]> {
  const rows = await db.dataSource.query<Array<{ action: string; outcome: string }>>('SELECT action, outcome FROM audit_events WHERE target_id = $1', [
    principalId,
  ]);
  return rows.map((row) => `${row.action} ${row.outcome}`).sort();
}

describe('setting up an authenticator', () => {
  it('needs the current password: a wrong one is refused naming the field, and nothing is set up', async () => {
    const { userId } = await ada();
    await expect(
      services.mfa.startTotp({ actor: services.actor('user', userId), client: client(), body: { currentPassword: 'not my password at all' } }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'currentPassword' } });
    const [{ count }] = await db.dataSource.query<Array<{ count: number }>>('SELECT count(*)::int AS count FROM totp_factors WHERE user_id = $1', [userId]);
    expect(count).toBe(0);
    expect(await auditActions(userId)).toEqual(['mfa.change-failed failure']);
  });

  it('answers a secret and its otpauth URI, and is off until the first code confirms it', async () => {
    const { userId, email } = await ada();
    const actor = services.actor('user', userId);
    const enrolment = await services.mfa.startTotp({ actor, client: client(), body: { currentPassword: PASSWORD } });
    expect(enrolment.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(enrolment.otpauthUri);
    expect(uri.searchParams.get('secret')).toBe(enrolment.secret);
    expect(decodeURIComponent(uri.pathname)).toBe(`/Portico:${email}`);
    await expect(services.mfa.status(actor)).resolves.toEqual({ enabled: false, enabledAt: null, recoveryCodesLeft: 0, blocked: false, blockedAt: null });
    await expect(login(email)).resolves.toHaveProperty('accessToken');
  });

  it('refuses a wrong first code naming the field (audited), and turns on with the right one, answering ten recovery codes', async () => {
    const { userId } = await ada();
    const actor = services.actor('user', userId);
    const { secret } = await services.mfa.startTotp({ actor, client: client(), body: { currentPassword: PASSWORD } });
    const right = totpCode(base32Decode(secret)!, now());
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    await expect(services.mfa.confirmTotp({ actor, client: client(), body: { code: wrong } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      // No recovery codes yet: the message does not speak of them.
      message: 'code is not a current code of your authenticator app',
      details: { field: 'code' },
    });
    const { recoveryCodes } = await services.mfa.confirmTotp({ actor, client: client(), body: { code: right } });
    expect(recoveryCodes).toHaveLength(10);
    await expect(services.mfa.status(actor)).resolves.toMatchObject({ enabled: true, recoveryCodesLeft: 10, blocked: false, blockedAt: null });
    const stored = await db.dataSource.query<Array<{ code_hash: string }>>(
      'SELECT code_hash FROM recovery_codes r JOIN totp_factors f ON f.id = r.factor_id WHERE f.user_id = $1',
      [userId],
    );
    expect(stored.map((row) => row.code_hash)).not.toContain(recoveryCodes[0]);
    expect(await auditActions(userId)).toEqual(['mfa.change-failed failure', 'mfa.enabled success']);
  });

  it('cannot be started again while one is on (409), nor confirmed without being started', async () => {
    const { userId } = await ada();
    const user = { type: 'user', id: userId } as const;
    await expect(services.mfa.confirmTotp({ actor: actorOf(user), client: client(), body: { code: '123456' } })).rejects.toMatchObject({ code: 'CONFLICT' });
    await turnOn(user);
    await expect(services.mfa.startTotp({ actor: actorOf(user), client: client(), body: { currentPassword: PASSWORD } })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });
});

describe('signing in with an authenticator on', () => {
  it('answers a challenge instead of tokens, opens no session until the code comes, then opens one', async () => {
    const { userId, email } = await ada();
    const { secret } = await turnOn({ type: 'user', id: userId });
    const answer = (await login(email)) as SecondStepView;
    expect(answer).toEqual({ mfaRequired: true, challenge: expect.any(String), expiresIn: 300, methods: ['totp', 'recovery-code'] });
    expect(answer).not.toHaveProperty('accessToken');
    expect(await services.openSessions(userId)).toBe(0);

    const pair = await secondStep(answer.challenge, totpCode(secret, now()));
    expect(pair).toMatchObject({ tokenType: 'Bearer', accessToken: expect.any(String) });
    expect(await services.openSessions(userId)).toBe(1);
    const [succeeded] = await db.dataSource.query<Array<{ details: Record<string, unknown> }>>(
      "SELECT details FROM audit_events WHERE target_id = $1 AND action = 'login.succeeded'",
      [userId],
    );
    expect(succeeded.details).toEqual({ secondFactor: 'totp' });
    expect(await auditActions(userId)).toContain('login.second-step-required success');
  });

  it('takes a code once only: the same code, or an older one, never signs in again', async () => {
    const { userId, email } = await ada();
    const { secret } = await turnOn({ type: 'user', id: userId });
    const code = totpCode(secret, now());
    await secondStep(await challengeOf(email), code);
    await expect(secondStep(await challengeOf(email), code)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(secondStep(await challengeOf(email), hotp(secret, totpStep(now()) - 1))).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    services.clock.advance(STEP_MS);
    await expect(secondStep(await challengeOf(email), totpCode(secret, now()))).resolves.toHaveProperty('accessToken');
  });

  it('lets a wrong code be typed again on the same challenge, and uses the challenge up on success', async () => {
    const { userId, email } = await ada();
    const { secret } = await turnOn({ type: 'user', id: userId });
    const challenge = await challengeOf(email);
    const right = totpCode(secret, now());
    const wrong = String((Number(right) + 7) % 1_000_000).padStart(6, '0');
    await expect(secondStep(challenge, wrong)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(secondStep(challenge, right)).resolves.toHaveProperty('accessToken');
    services.clock.advance(STEP_MS);
    await expect(secondStep(challenge, totpCode(secret, now()))).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await auditActions(userId)).toContain('login.second-step-failed failure');
  });

  it('takes each recovery code once, whatever its case and dashes, and counts what is left', async () => {
    const { userId, email } = await ada();
    const { recoveryCodes } = await turnOn({ type: 'user', id: userId });
    const typed = recoveryCodes[3].replace('-', ' ').toUpperCase();
    await expect(secondStep(await challengeOf(email), typed)).resolves.toHaveProperty('accessToken');
    await expect(secondStep(await challengeOf(email), recoveryCodes[3])).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(services.mfa.status(services.actor('user', userId))).resolves.toMatchObject({ recoveryCodesLeft: 9 });
  });

  it('locks the second step after five wrong codes, whatever the client address, even for the right code', async () => {
    const { userId, email } = await ada();
    const { secret } = await turnOn({ type: 'user', id: userId });
    const challenge = await challengeOf(email);
    for (let attempt = 0; attempt < 5; attempt++) await expect(secondStep(challenge, '000000')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(secondStep(challenge, totpCode(secret, now()))).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect(await services.openSessions(userId)).toBe(0);
    expect(await auditActions(userId)).toContain('login.throttled failure');
  });

  it('lets a challenge expire after MFA_CHALLENGE_TTL_MINUTES', async () => {
    const { userId, email } = await ada();
    const { secret } = await turnOn({ type: 'user', id: userId });
    const challenge = await challengeOf(email);
    services.clock.advance(5 * 60_000);
    await expect(secondStep(challenge, totpCode(secret, now()))).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('voids a pending challenge when the password is reset before the code comes', async () => {
    const { userId, email } = await ada();
    const { secret } = await turnOn({ type: 'user', id: userId });
    const challenge = await challengeOf(email);
    await resetPassword(userId, 'an entirely new passphrase');
    await expect(secondStep(challenge, totpCode(secret, now()))).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await services.openSessions(userId)).toBe(0);
  });

  it('voids a pending challenge when its owner ends their other sessions, or an admin ends their sessions', async () => {
    const { accountId, userId, email } = await ada();
    const { secret } = await turnOn({ type: 'user', id: userId });
    const challenge = await challengeOf(email);
    await services.sessions.endOthers(services.actor('user', userId), client().ip);
    await expect(secondStep(challenge, totpCode(secret, now()))).rejects.toMatchObject({ code: 'INVALID_TOKEN' });

    const again = await challengeOf(email);
    await services.users.endSessions({ actor: services.actor('user', userId), accountId, userId, client: client() });
    await expect(secondStep(again, totpCode(secret, now()))).rejects.toMatchObject({ code: 'INVALID_TOKEN' });

    const [{ slug }] = await db.dataSource.query<Array<{ slug: string }>>('SELECT slug FROM accounts WHERE id = $1', [accountId]);
    const subuserId = await db.subuser(accountId, 'desk-9');
    await db.dataSource.query('UPDATE subusers SET password_hash = $2 WHERE id = $1', [subuserId, `fake:${PASSWORD}`]);
    const desk = await turnOn({ type: 'subuser', id: subuserId });
    const answer = (await services.auth.subuserLogin({ client: client(), body: { account: slug, login: 'desk-9', password: PASSWORD } })) as SecondStepView;
    await services.subusers.endSessions({ actor: services.actor('user', userId), accountId, subuserId, client: client() });
    await expect(secondStep(answer.challenge, totpCode(desk.secret, now()))).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await services.openSessions(userId)).toBe(0);
    expect(await services.openSessions(subuserId)).toBe(0);
  });

  it('keeps the second step after a password reset: the new password alone does not sign in', async () => {
    const { userId, email } = await ada();
    await turnOn({ type: 'user', id: userId });
    await resetPassword(userId, 'an entirely new passphrase');
    const answer = await services.auth.login({ client: client(), body: { email, password: 'an entirely new passphrase' } });
    expect(answer).toMatchObject({ mfaRequired: true });
  });

  it('works for a subuser on its account login page, the session bound to that account', async () => {
    const { accountId } = await ada();
    const [{ slug }] = await db.dataSource.query<Array<{ slug: string }>>('SELECT slug FROM accounts WHERE id = $1', [accountId]);
    const subuserId = await db.subuser(accountId, 'desk-1');
    await db.dataSource.query('UPDATE subusers SET password_hash = $2 WHERE id = $1', [subuserId, `fake:${PASSWORD}`]);
    const { secret } = await turnOn({ type: 'subuser', id: subuserId });
    const answer = (await services.auth.subuserLogin({ client: client(), body: { account: slug, login: 'desk-1', password: PASSWORD } })) as SecondStepView;
    expect(answer.mfaRequired).toBe(true);
    const pair = (await secondStep(answer.challenge, totpCode(secret, now()))) as TokenPairView;
    expect(pair.accessToken).toEqual(expect.any(String));
    const [session] = await db.dataSource.query<Array<{ account_id: string }>>('SELECT account_id FROM sessions WHERE principal_id = $1', [subuserId]);
    expect(session.account_id).toBe(accountId);
  });
});

describe('telling the login of a sign-in with a recovery code', () => {
  const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1';

  /** The data of each `identity.second-step.recovery-code-used` about `principalId` in the outbox, oldest first. */
  async function notices(principalId: string): Promise<Array<Record<string, unknown>>> {
    const rows = await db.dataSource.query<Array<{ data: Record<string, unknown> }>>(
      `SELECT payload->'data' AS data FROM outbox WHERE type = $1 AND payload->'data'->>'principalId' = $2 ORDER BY created_at, id`,
      [Events.RecoveryCodeUsed, principalId],
    );
    return rows.map((row) => row.data);
  }

  /** The transaction that wrote each of: `userId`'s one notice, its one session, and its recovery code used. */
  async function writers(userId: string): Promise<{ notice: string; session: string; code: string }> {
    const [row] = await db.dataSource.query<Array<{ notice: string; session: string; code: string }>>(
      `SELECT (SELECT xmin::text FROM outbox WHERE type = $1 AND payload->'data'->>'principalId' = $2::text) AS notice,
              (SELECT xmin::text FROM sessions WHERE principal_id = $2::uuid) AS session,
              (SELECT r.xmin::text FROM recovery_codes r JOIN totp_factors f ON f.id = r.factor_id WHERE f.user_id = $2::uuid AND r.used_at IS NOT NULL) AS code`,
      [Events.RecoveryCodeUsed, userId],
    );
    return row;
  }

  it('queues identity.second-step.recovery-code-used in the transaction that opens the session: when, from where, on what, the codes left; audited as a recovery code', async () => {
    const { userId, email } = await ada();
    const { recoveryCodes } = await turnOn({ type: 'user', id: userId });
    const { ip } = client();
    await services.auth.secondStep({ client: { ip }, body: { challenge: await challengeOf(email), code: recoveryCodes[0] } }, IPHONE);
    expect(await notices(userId)).toEqual([
      {
        accountId: null,
        principalType: 'user',
        principalId: userId,
        email,
        name: 'Ada',
        usedAt: now().toISOString(),
        ip,
        device: 'Safari 17 on iPhone',
        codesLeft: 9,
        locale: expect.any(String),
      },
    ]);
    const { notice, session, code } = await writers(userId);
    expect([notice, code]).toEqual([session, session]);
    const [succeeded] = await db.dataSource.query<Array<{ details: Record<string, unknown> }>>(
      "SELECT details FROM audit_events WHERE target_id = $1 AND action = 'login.succeeded'",
      [userId],
    );
    expect(succeeded.details).toEqual({ secondFactor: 'recovery-code', userAgent: IPHONE });
  });

  it('counts the codes left down, and queues nothing for a code of the authenticator, a wrong or used recovery code, or a sign-in that fails', async () => {
    const { accountId, userId, email } = await ada();
    const { secret, recoveryCodes } = await turnOn({ type: 'user', id: userId });
    await expect(secondStep(await challengeOf(email), totpCode(secret, now()))).resolves.toHaveProperty('accessToken');
    await expect(secondStep(await challengeOf(email), 'aaaaa-bbbbb')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(await notices(userId)).toEqual([]);
    await secondStep(await challengeOf(email), recoveryCodes[0]);
    await expect(secondStep(await challengeOf(email), recoveryCodes[0])).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    // The login changed before its second step: nothing is used up, nobody told.
    const challenge = await challengeOf(email);
    await db.dataSource.query('UPDATE memberships SET active = false WHERE account_id = $1 AND user_id = $2', [accountId, userId]);
    await expect(secondStep(challenge, recoveryCodes[1])).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await db.dataSource.query('UPDATE memberships SET active = true WHERE account_id = $1 AND user_id = $2', [accountId, userId]);
    await secondStep(challenge, recoveryCodes[1]);
    expect((await notices(userId)).map((data) => data.codesLeft)).toEqual([9, 8]);
  });

  it('tells a subuser at its own e-mail, naming its account, and none without one (it still signs in)', async () => {
    const { accountId } = await ada();
    const [{ slug }] = await db.dataSource.query<Array<{ slug: string }>>('SELECT slug FROM accounts WHERE id = $1', [accountId]);
    const signIn = async (login: string, email: string | null) => {
      const subuserId = await db.subuser(accountId, login);
      await db.dataSource.query('UPDATE subusers SET password_hash = $2, email = $3 WHERE id = $1', [subuserId, `fake:${PASSWORD}`, email]);
      const { recoveryCodes } = await turnOn({ type: 'subuser', id: subuserId });
      const answer = (await services.auth.subuserLogin({ client: client(), body: { account: slug, login, password: PASSWORD } })) as SecondStepView;
      await expect(secondStep(answer.challenge, recoveryCodes[0])).resolves.toHaveProperty('accessToken');
      return subuserId;
    };
    const told = await signIn('desk-2', 'desk-2@example.test');
    expect(await notices(told)).toEqual([
      expect.objectContaining({
        accountId,
        principalType: 'subuser',
        principalId: told,
        email: 'desk-2@example.test',
        name: 'desk-2',
        device: null,
        codesLeft: 9,
      }),
    ]);
    expect(await notices(await signIn('desk-3', null))).toEqual([]);
  });
});

describe('turning it off and renewing recovery codes', () => {
  it('needs the password and a code: a wrong code is refused naming the field and changes nothing', async () => {
    const { userId, email } = await ada();
    const user = { type: 'user', id: userId } as const;
    const { secret } = await turnOn(user);
    await expect(services.mfa.disable({ actor: actorOf(user), client: client(), body: { currentPassword: PASSWORD, code: '000000' } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'code' },
    });
    await expect(
      services.mfa.disable({ actor: actorOf(user), client: client(), body: { currentPassword: 'wrong password here', code: totpCode(secret, now()) } }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'currentPassword' } });
    await expect(login(email)).resolves.toMatchObject({ mfaRequired: true });

    await services.mfa.disable({ actor: actorOf(user), client: client(), body: { currentPassword: PASSWORD, code: totpCode(secret, now()) } });
    await expect(login(email)).resolves.toHaveProperty('accessToken');
    await expect(services.mfa.status(actorOf(user))).resolves.toEqual({
      enabled: false,
      enabledAt: null,
      recoveryCodesLeft: 0,
      blocked: false,
      blockedAt: null,
    });
    expect(await auditActions(userId)).toContain('mfa.disabled success');
  });

  it('turns off with a recovery code when the authenticator is lost', async () => {
    const { userId, email } = await ada();
    const user = { type: 'user', id: userId } as const;
    const { recoveryCodes } = await turnOn(user);
    await services.mfa.disable({ actor: actorOf(user), client: client(), body: { currentPassword: PASSWORD, code: recoveryCodes[0] } });
    await expect(login(email)).resolves.toHaveProperty('accessToken');
  });

  it('renews the recovery codes: the old ones stop working, the new ones work', async () => {
    const { userId, email } = await ada();
    const user = { type: 'user', id: userId } as const;
    const { secret, recoveryCodes: old } = await turnOn(user);
    const { recoveryCodes: renewed } = await services.mfa.renewRecoveryCodes({
      actor: actorOf(user),
      client: client(),
      body: { currentPassword: PASSWORD, code: totpCode(secret, now()) },
    });
    expect(renewed).toHaveLength(10);
    expect(renewed).not.toContain(old[1]);
    await expect(secondStep(await challengeOf(email), old[1])).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(secondStep(await challengeOf(email), renewed[1])).resolves.toHaveProperty('accessToken');
    expect(await auditActions(userId)).toContain('mfa.recovery-codes-renewed success');
  });

  it('refuses both while two-step sign-in is off (409)', async () => {
    const { userId } = await ada();
    const actor = services.actor('user', userId);
    await expect(services.mfa.disable({ actor, client: client(), body: { currentPassword: PASSWORD, code: '123456' } })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(services.mfa.renewRecoveryCodes({ actor, client: client(), body: { currentPassword: PASSWORD, code: '123456' } })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });
});

describe('changes the login guards, while it is on', () => {
  /** Moves Ada's login to a new address with her password (and `code`, when given); the undo link mailed to the address it left. */
  async function moveLogin({ userId, email }: Person, code?: string): Promise<string> {
    const newEmail = email.replace('@', '.new@');
    await services.emailChanges.request({ actor: services.actor('user', userId), client: client(), body: { newEmail, currentPassword: PASSWORD, code } });
    await services.emailChanges.confirm({ client: client(), body: { token: await services.lastLinkToken(Events.EmailChangeRequested, userId) } });
    const [row] = await db.dataSource.query<Array<{ token: string }>>(
      `SELECT payload->'data'->>'undoToken' AS token FROM outbox WHERE type = $1 AND payload->'data'->>'userId' = $2`,
      [Events.EmailChanged, userId],
    );
    return row.token;
  }

  const factorOf = async (userId: string) =>
    (await db.dataSource.query<Array<{ id: string }>>('SELECT id FROM totp_factors WHERE user_id = $1', [userId])).map((row) => row.id);

  it('moving the login e-mail needs a code too: refused without one or with a wrong one (naming code), done with the right one', async () => {
    const person = await ada();
    const { secret } = await turnOn({ type: 'user', id: person.userId });
    const ask = (code?: string) =>
      services.emailChanges.request({
        actor: services.actor('user', person.userId),
        client: client(),
        body: { newEmail: person.email.replace('@', '.new@'), currentPassword: PASSWORD, code },
      });
    await expect(ask()).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'code' } });
    await expect(ask('000000')).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'code' } });
    const [{ count }] = await db.dataSource.query<Array<{ count: number }>>(
      "SELECT count(*)::int AS count FROM action_tokens WHERE user_id = $1 AND purpose = 'email-change'",
      [person.userId],
    );
    expect(count).toBe(0);
    await expect(ask(totpCode(secret, now()))).resolves.toEqual({ accepted: true });
    expect(await auditActions(person.userId)).toContain('email.change-failed failure');
  });

  it('keeps the lockout of codes guessed on a change route through a change of the password made from the session', async () => {
    const person = await ada();
    const user = { type: 'user', id: person.userId } as const;
    await turnOn(user);
    const disable = (currentPassword: string) => services.mfa.disable({ actor: actorOf(user), client: client(), body: { currentPassword, code: '000000' } });
    let refused: unknown;
    for (let guess = 0; guess < 10 && (refused as { code?: string } | undefined)?.code !== 'TOO_MANY_REQUESTS'; guess++)
      refused = await disable(PASSWORD).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    const changed = 'a brand new passphrase of mine';
    await services.passwords.change({ actor: actorOf(user), client: client(), body: { currentPassword: PASSWORD, newPassword: changed } });
    await expect(disable(changed)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
  });

  it('charges no code to a move refused by its own limit first: a run of refused moves leaves the second step usable', async () => {
    const person = await ada();
    const { secret } = await turnOn({ type: 'user', id: person.userId });
    const ask = (n: number, code: string) =>
      services.emailChanges.request({
        actor: services.actor('user', person.userId),
        client: client(),
        body: { newEmail: person.email.replace('@', `.${n}@`), currentPassword: PASSWORD, code },
      });
    for (let n = 0; n < 3; n++) {
      await expect(ask(n, totpCode(secret, now()))).resolves.toEqual({ accepted: true });
      services.clock.advance(STEP_MS);
    }
    for (let n = 3; n < 9; n++) await expect(ask(n, '000000')).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    await expect(secondStep(await challengeOf(person.email), totpCode(secret, now()))).resolves.toHaveProperty('accessToken');
  });

  it('turning it on voids a move of the login asked before (with the password alone)', async () => {
    const person = await ada();
    await services.emailChanges.request({
      actor: services.actor('user', person.userId),
      client: client(),
      body: { newEmail: person.email.replace('@', '.thief@'), currentPassword: PASSWORD },
    });
    const link = await services.lastLinkToken(Events.EmailChangeRequested, person.userId);
    await turnOn({ type: 'user', id: person.userId });
    await expect(services.emailChanges.confirm({ client: client(), body: { token: link } })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('undoing an e-mail change takes away an authenticator set up after the move (the mover may have set it up)', async () => {
    const person = await ada();
    const undo = await moveLogin(person);
    await turnOn({ type: 'user', id: person.userId });
    await services.emailChanges.undo({ client: client(), body: { token: undo } });
    expect(await factorOf(person.userId)).toEqual([]);
    const [undone] = await db.dataSource.query<Array<{ details: { secondFactorRemoved: boolean } }>>(
      "SELECT details FROM audit_events WHERE target_id = $1 AND action = 'email.change-undone'",
      [person.userId],
    );
    expect(undone.details.secondFactorRemoved).toBe(true);
    const [{ second_step }] = await db.dataSource.query<Array<{ second_step: boolean }>>('SELECT second_step FROM users WHERE id = $1', [person.userId]);
    expect(second_step).toBe(false);
  });

  it('undoing an e-mail change takes away an authenticator set up before the move as well (whoever moved it may have set it up first)', async () => {
    const person = await ada();
    const { secret } = await turnOn({ type: 'user', id: person.userId });
    const undo = await moveLogin(person, totpCode(secret, now()));
    await services.emailChanges.undo({ client: client(), body: { token: undo } });
    expect(await factorOf(person.userId)).toEqual([]);
  });
});

describe('races and limits', () => {
  it('issues no challenge when a reset commits while the password is checked: the old password gets nowhere', async () => {
    const { userId, email } = await ada();
    await turnOn({ type: 'user', id: userId });
    const checking = services.argon2.hold(PASSWORD);
    const signingIn = login(email);
    await checking.started;
    await resetPassword(userId, 'an entirely new passphrase');
    checking.release();
    await expect(signingIn).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    const [{ count }] = await db.dataSource.query<Array<{ count: number }>>(
      "SELECT count(*)::int AS count FROM action_tokens WHERE user_id = $1 AND purpose = 'sign-in' AND used_at IS NULL AND voided_at IS NULL",
      [userId],
    );
    expect(count).toBe(0);
  });

  it('opens no password-only session when the second step is turned on while the password is checked', async () => {
    const { userId, email } = await ada();
    const actor = services.actor('user', userId);
    const { secret } = await services.mfa.startTotp({ actor, client: client(), body: { currentPassword: PASSWORD } });
    const checking = services.argon2.hold(PASSWORD);
    const signingIn = login(email);
    await checking.started;
    await services.mfa.confirmTotp({ actor, client: client(), body: { code: totpCode(base32Decode(secret)!, now()) } });
    checking.release();
    await expect(signingIn).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(await services.openSessions(userId)).toBe(0);
  });

  it('uses nothing up when the login changed before the second step (removed from its last account): the recovery code still works later', async () => {
    const { accountId, userId, email } = await ada();
    const { recoveryCodes } = await turnOn({ type: 'user', id: userId });
    const challenge = await challengeOf(email);
    await db.dataSource.query('UPDATE memberships SET active = false WHERE account_id = $1 AND user_id = $2', [accountId, userId]);
    await expect(secondStep(challenge, recoveryCodes[0])).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(services.mfa.status(services.actor('user', userId))).resolves.toMatchObject({ recoveryCodesLeft: 10 });
    await db.dataSource.query('UPDATE memberships SET active = true WHERE account_id = $1 AND user_id = $2', [accountId, userId]);
    await expect(secondStep(challenge, recoveryCodes[0])).resolves.toHaveProperty('accessToken');
  });

  it('charges no code for a request refused anyway: a session alone cannot lock the owner out of the second step', async () => {
    const { userId, email } = await ada();
    const { secret } = await turnOn({ type: 'user', id: userId });
    for (let attempt = 0; attempt < 8; attempt++)
      await expect(services.mfa.confirmTotp({ actor: services.actor('user', userId), client: client(), body: { code: '000000' } })).rejects.toMatchObject({
        code: 'CONFLICT',
      });
    await expect(secondStep(await challengeOf(email), totpCode(secret, now()))).resolves.toHaveProperty('accessToken');
  });

  it('keeps at most ten challenges of one login waiting: an eleventh voids the oldest', async () => {
    const { userId, email } = await ada();
    const { secret } = await turnOn({ type: 'user', id: userId });
    const first = await challengeOf(email);
    for (let sign = 0; sign < 10; sign++) await challengeOf(email);
    await expect(secondStep(first, totpCode(secret, now()))).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    const [{ count }] = await db.dataSource.query<Array<{ count: number }>>(
      "SELECT count(*)::int AS count FROM action_tokens WHERE user_id = $1 AND purpose = 'sign-in' AND used_at IS NULL AND voided_at IS NULL",
      [userId],
    );
    expect(count).toBe(10);
  });

  it('names no challenge in the event that holds back mails when a password change voids them (they are never mailed), and names the mailed links', async () => {
    const { userId, email } = await ada();
    await turnOn({ type: 'user', id: userId });
    await challengeOf(email);
    const mailed = await db.dataSource.transaction((manager) =>
      services.tokens.issue(manager, { type: 'user', id: userId }, null, 'email-change', email.replace('@', '.elsewhere@')),
    );
    await resetPassword(userId, 'an entirely new passphrase');
    const links = await db.dataSource.query<Array<{ purpose: string; token_hash: string; voided_at: Date | null }>>(
      'SELECT purpose, token_hash, voided_at FROM action_tokens WHERE user_id = $1 AND purpose IN ($2, $3)',
      [userId, 'sign-in', 'email-change'],
    );
    expect(links.every((link) => link.voided_at !== null)).toBe(true);
    const [voided] = await db.dataSource.query<Array<{ hashes: string[] }>>(
      `SELECT payload->'data'->'tokenHashes' AS hashes FROM outbox WHERE type = $1 AND payload->'data'->'tokenHashes' ? $2`,
      [Events.LinksVoided, hashSecretToken(mailed.token)],
    );
    expect(voided.hashes).toEqual([hashSecretToken(mailed.token)]);
    expect(voided.hashes).not.toContain(links.find((link) => link.purpose === 'sign-in')!.token_hash);
  });

  it('lets a set-up wait 15 minutes for its first code, and a password change end it', async () => {
    const { userId } = await ada();
    const actor = services.actor('user', userId);
    const late = await services.mfa.startTotp({ actor, client: client(), body: { currentPassword: PASSWORD } });
    services.clock.advance(15 * 60_000);
    await expect(services.mfa.confirmTotp({ actor, client: client(), body: { code: totpCode(base32Decode(late.secret)!, now()) } })).rejects.toMatchObject({
      code: 'CONFLICT',
    });

    const dropped = await services.mfa.startTotp({ actor, client: client(), body: { currentPassword: PASSWORD } });
    await services.passwords.change({ actor, client: client(), body: { currentPassword: PASSWORD, newPassword: 'an entirely new passphrase' } });
    await expect(services.mfa.confirmTotp({ actor, client: client(), body: { code: totpCode(base32Decode(dropped.secret)!, now()) } })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });
});

describe('what else turning it on and off does', () => {
  /** The `change` of each second-step notice about `principalId` in the outbox, oldest first. */
  async function notices(principalId: string): Promise<string[]> {
    const rows = await db.dataSource.query<Array<{ change: string }>>(
      `SELECT payload->'data'->>'change' AS change FROM outbox WHERE type = $1 AND payload->'data'->>'principalId' = $2 ORDER BY created_at, id`,
      [Events.SecondStepChanged, principalId],
    );
    return rows.map((row) => row.change);
  }

  it('ends every other session when it turns on, and keeps the one that turned it on', async () => {
    const { userId, email } = await ada();
    await login(email);
    await login(email);
    const [{ id: keptId }] = await db.dataSource.query<Array<{ id: string }>>('SELECT id FROM sessions WHERE principal_id = $1 ORDER BY created_at LIMIT 1', [
      userId,
    ]);
    const actor = { type: 'user' as const, id: userId, sessionId: keptId };
    const { secret } = await services.mfa.startTotp({ actor, client: client(), body: { currentPassword: PASSWORD } });
    await services.mfa.confirmTotp({ actor, client: client(), body: { code: totpCode(base32Decode(secret)!, now()) } });
    const open = await db.dataSource.query<Array<{ id: string }>>('SELECT id FROM sessions WHERE principal_id = $1 AND revoked_at IS NULL', [userId]);
    expect(open.map((row) => row.id)).toEqual([keptId]);
  });

  it('mails a notice to the login e-mail when it turns on, when the codes are renewed and when it turns off', async () => {
    const { userId } = await ada();
    const user = { type: 'user', id: userId } as const;
    const { secret } = await turnOn(user);
    await services.mfa.renewRecoveryCodes({ actor: actorOf(user), client: client(), body: { currentPassword: PASSWORD, code: totpCode(secret, now()) } });
    services.clock.advance(STEP_MS);
    await services.mfa.disable({ actor: actorOf(user), client: client(), body: { currentPassword: PASSWORD, code: totpCode(secret, now()) } });
    expect(await notices(userId)).toEqual(['enabled', 'recovery-codes-renewed', 'disabled']);
  });

  it('may be turned off for a subuser by an admin of its account (a lost phone): audited, told, and the password alone signs in again', async () => {
    const { accountId, userId: adminId } = await ada();
    const [{ slug }] = await db.dataSource.query<Array<{ slug: string }>>('SELECT slug FROM accounts WHERE id = $1', [accountId]);
    const subuserId = await db.subuser(accountId, 'desk-2');
    await db.dataSource.query('UPDATE subusers SET password_hash = $2, email = $3 WHERE id = $1', [subuserId, `fake:${PASSWORD}`, 'desk-2@example.test']);
    await turnOn({ type: 'subuser', id: subuserId });
    const reset = () => services.subusers.resetSecondStep({ actor: services.actor('user', adminId), accountId, subuserId, client: client() });
    await expect(reset()).resolves.toEqual({ reset: true });
    await expect(services.auth.subuserLogin({ client: client(), body: { account: slug, login: 'desk-2', password: PASSWORD } })).resolves.toHaveProperty(
      'accessToken',
    );
    expect(await auditActions(subuserId)).toContain('mfa.reset success');
    expect(await notices(subuserId)).toEqual(['enabled', 'reset-by-admin']);
    await expect(reset()).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it("is shown in the subuser's account when an admin turns it off while the subuser is deactivated there", async () => {
    const { accountId, userId: adminId } = await ada();
    const subuserId = await db.subuser(accountId, 'desk-5');
    await db.dataSource.query('UPDATE subusers SET password_hash = $2 WHERE id = $1', [subuserId, `fake:${PASSWORD}`]);
    await turnOn({ type: 'subuser', id: subuserId });
    await db.dataSource.query('UPDATE subusers SET active = false WHERE id = $1', [subuserId]);
    await services.subusers.resetSecondStep({ actor: services.actor('user', adminId), accountId, subuserId, client: client() });
    const rows = await db.dataSource.query<Array<{ account_id: string | null }>>(
      `SELECT account_id FROM audit_events WHERE action = 'mfa.reset' AND target_id = $1`,
      [subuserId],
    );
    expect(rows).toEqual([{ account_id: accountId }]);
  });

  it('is not turned off by a subuser for itself through the admin route (403: it has its own, with both factors)', async () => {
    const { accountId } = await ada();
    const subuserId = await db.subuser(accountId, 'desk-4');
    await expect(
      services.subusers.resetSecondStep({ actor: services.actor('subuser', subuserId), accountId, subuserId, client: client() }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('lets no admin of another account turn off a subuser’s second step (404)', async () => {
    const { accountId } = await ada();
    const { accountId: otherAccount, userId: stranger } = await ada();
    const subuserId = await db.subuser(accountId, 'desk-3');
    await expect(
      services.subusers.resetSecondStep({ actor: services.actor('user', stranger), accountId: otherAccount, subuserId, client: client() }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('keeps the authenticator secret sealed in the database under MFA_SECRET_KEY_FILE, and a replica without the key answers 503 (and says so at start)', async () => {
    const key = randomBytes(32);
    services.secrets.useKey(key);
    try {
      const { userId, email } = await ada();
      const { secret, recoveryCodes } = await turnOn({ type: 'user', id: userId });
      const [row] = await db.dataSource.query<Array<{ secret: Buffer }>>('SELECT secret FROM totp_factors WHERE user_id = $1', [userId]);
      expect(row.secret[0]).toBe(1);
      expect(row.secret.includes(secret)).toBe(false);
      await expect(secondStep(await challengeOf(email), totpCode(secret, now()))).resolves.toHaveProperty('accessToken');
      services.clock.advance(STEP_MS);

      services.secrets.useKey(null);
      // Not counted: a sixth code refused by a replica without the key would be 429 if the five before it had been.
      for (let attempt = 0; attempt < 6; attempt++)
        await expect(secondStep(await challengeOf(email), totpCode(secret, now()))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      // A recovery code needs no secret: the way in while a replica lacks the key.
      await expect(secondStep(await challengeOf(email), recoveryCodes[0])).resolves.toHaveProperty('accessToken');
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
      await new FactorSecrets(db.dataSource, { MFA_SECRET_KEY_FILE: '-', MFA_PREVIOUS_SECRET_KEY_FILES: '-' }, logger).onApplicationBootstrap();
      expect(lines.join('')).toContain('sealed under a key this replica does not have');
      expect(lines.join('')).toContain('authenticator secrets are stored unsealed');
      const withKey = new FactorSecrets(db.dataSource, { MFA_SECRET_KEY_FILE: '-', MFA_PREVIOUS_SECRET_KEY_FILES: '-' }, logger);
      withKey.useKey(key);
      lines.length = 0;
      await withKey.onApplicationBootstrap();
      // Other tests' secrets are stored as they are; this replica's key reads every sealed one.
      expect(lines).toEqual([]);

      services.secrets.useKey(key);
      await expect(secondStep(await challengeOf(email), totpCode(secret, now()))).resolves.toHaveProperty('accessToken');
    } finally {
      services.secrets.useKey(null);
    }
  });

  it('keeps a secret stored before a key was set as it is, readable with or without the key (a rollout, a rollback)', async () => {
    const { userId, email } = await ada();
    const { secret } = await turnOn({ type: 'user', id: userId });
    const stored = async () => (await db.dataSource.query<Array<{ secret: Buffer }>>('SELECT secret FROM totp_factors WHERE user_id = $1', [userId]))[0].secret;
    services.secrets.useKey(randomBytes(32));
    try {
      await expect(secondStep(await challengeOf(email), totpCode(secret, now()))).resolves.toHaveProperty('accessToken');
      expect((await stored())[0]).toBe(0);
      services.clock.advance(STEP_MS);
      services.secrets.useKey(null);
      await expect(secondStep(await challengeOf(email), totpCode(secret, now()))).resolves.toHaveProperty('accessToken');
    } finally {
      services.secrets.useKey(null);
    }
  });

  it('refuses a set-up code that is not six digits without counting it', async () => {
    const { userId, email } = await ada();
    const actor = services.actor('user', userId);
    const { secret } = await services.mfa.startTotp({ actor, client: client(), body: { currentPassword: PASSWORD } });
    for (let attempt = 0; attempt < 6; attempt++)
      await expect(services.mfa.confirmTotp({ actor, client: client(), body: { code: '12345' } })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { field: 'code' },
      });
    await services.mfa.confirmTotp({ actor, client: client(), body: { code: totpCode(base32Decode(secret)!, now()) } });
    expect(await login(email)).toMatchObject({ mfaRequired: true });
  });

  it('is forgotten by housekeeping a day after a challenge expires; other links stay', async () => {
    const { userId, email } = await ada();
    await turnOn({ type: 'user', id: userId });
    await challengeOf(email);
    await db.dataSource.transaction((manager) => services.tokens.issue(manager, { type: 'user', id: userId }, null, 'reset'));
    services.clock.advance(25 * 3600_000);
    const housekeeping = new Housekeeping(db.dataSource, new ThrottleService(db.dataSource, services.clock), services.clock, {
      info: () => undefined,
      warn: () => undefined,
    } as unknown as Logger);
    expect((await housekeeping.sweep()).challenges).toBeGreaterThanOrEqual(1);
    const purposes = await db.dataSource.query<Array<{ purpose: string }>>('SELECT purpose FROM action_tokens WHERE user_id = $1', [userId]);
    expect(purposes.map((row) => row.purpose)).toEqual(['reset']);
  });
});

describe('blocking the second step after MFA_BLOCK_AFTER_WRONG_CODES wrong codes within 30 days', () => {
  const WRONG = '000000';

  /** The error a promise rejects with. */
  const refusal = (attempt: Promise<unknown>) =>
    attempt.then(
      () => {
        throw new Error('accepted');
      },
      (error: unknown) => error as { code: string; details?: unknown },
    );

  /**
   * Types `code` (read when typed: the clock may have moved) on a fresh challenge of `email`, as a
   * patient guesser does: a throttled attempt (429) is waited out on the clock and typed again.
   * What the code got: an error code, or `signed-in`.
   */
  async function guess(email: string, code: string | (() => string) = WRONG): Promise<string> {
    for (;;) {
      const answer = await login(email).catch((error: { code: string }) => error);
      if ('code' in answer) return answer.code;
      const outcome = await secondStep((answer as SecondStepView).challenge, typeof code === 'string' ? code : code()).then(
        () => 'signed-in',
        (error: { code: string; details?: { retryAfterSeconds: number } }) => {
          if (error.code !== 'TOO_MANY_REQUESTS') return error.code;
          services.clock.advance(error.details!.retryAfterSeconds * 1000);
          return null;
        },
      );
      if (outcome !== null) return outcome;
    }
  }

  /** Guesses `count` wrong codes in a row: what each got. */
  async function guessWrong(email: string, count: number, code = WRONG): Promise<string[]> {
    const answers: string[] = [];
    for (let attempt = 0; attempt < count; attempt++) answers.push(await guess(email, code));
    return answers;
  }

  /** Ada with her authenticator on, and her second step blocked by BLOCK_AFTER wrong codes. */
  async function blockedAda(): Promise<Person & { secret: Buffer; recoveryCodes: string[] }> {
    const person = await ada();
    const factor = await turnOn({ type: 'user', id: person.userId });
    expect(await guessWrong(person.email, BLOCK_AFTER)).toEqual([...new Array<string>(BLOCK_AFTER - 1).fill('INVALID_CREDENTIALS'), 'SECOND_STEP_BLOCKED']);
    return { ...person, ...factor };
  }

  /** A challenge for `userId` made as a sign-in racing the block would have it (the password step issues none while blocked). */
  const racingChallenge = async (userId: string) =>
    (await db.dataSource.transaction((manager) => services.tokens.issue(manager, { type: 'user', id: userId }, null, 'sign-in'))).token;

  it('blocks at the last wrong code: 423 SECOND_STEP_BLOCKED from then on, at the password step and for the right code, audited mfa.blocked', async () => {
    const { userId, email, secret } = await blockedAda();
    await expect(refusal(login(email))).resolves.toMatchObject({ code: 'SECOND_STEP_BLOCKED', message: expect.stringContaining('too many wrong codes') });
    services.clock.advance(STEP_MS);
    await expect(refusal(secondStep(await racingChallenge(userId), totpCode(secret, now())))).resolves.toMatchObject({ code: 'SECOND_STEP_BLOCKED' });
    expect(await services.openSessions(userId)).toBe(0);
    const actions = await auditActions(userId);
    expect(actions.filter((action) => action === 'mfa.blocked success')).toHaveLength(1);
    expect(actions).toContain('login.failed failure');
  });

  it('queues one notice to the login e-mail per block (identity.second-step.blocked), however often it is refused after', async () => {
    const { userId, email } = await blockedAda();
    await expect(refusal(login(email))).resolves.toMatchObject({ code: 'SECOND_STEP_BLOCKED' });
    await expect(refusal(secondStep(await racingChallenge(userId), WRONG))).resolves.toMatchObject({ code: 'SECOND_STEP_BLOCKED' });
    const notices = await db.dataSource.query<Array<{ data: Record<string, unknown> }>>(
      `SELECT payload->'data' AS data FROM outbox WHERE type = $1 AND payload->'data'->>'principalId' = $2`,
      [Events.SecondStepBlocked, userId],
    );
    expect(notices.map((notice) => notice.data)).toEqual([
      {
        accountId: null,
        principalType: 'user',
        principalId: userId,
        email,
        name: expect.any(String),
        wrongCodes: BLOCK_AFTER,
        blockedAt: now().toISOString(),
        locale: expect.any(String),
      },
    ]);
  });

  it('voids every live sign-in challenge of the login when it blocks', async () => {
    const { userId, email } = await ada();
    const { secret } = await turnOn({ type: 'user', id: userId });
    const waiting = [await challengeOf(email), await challengeOf(email)];
    await guessWrong(email, BLOCK_AFTER);
    services.clock.advance(STEP_MS);
    for (const challenge of waiting) await expect(refusal(secondStep(challenge, totpCode(secret, now())))).resolves.toMatchObject({ code: 'INVALID_TOKEN' });
    const [{ live }] = await db.dataSource.query<Array<{ live: number }>>(
      "SELECT count(*)::int AS live FROM action_tokens WHERE user_id = $1 AND purpose = 'sign-in' AND used_at IS NULL AND voided_at IS NULL",
      [userId],
    );
    expect(live).toBe(0);
  });

  it('counts wrong recovery codes too, and takes no recovery code while blocked (it stays unused)', async () => {
    const { userId, email } = await ada();
    const { recoveryCodes } = await turnOn({ type: 'user', id: userId });
    expect((await guessWrong(email, BLOCK_AFTER, 'aaaaa-aaaaa')).at(-1)).toBe('SECOND_STEP_BLOCKED');
    await expect(refusal(secondStep(await racingChallenge(userId), recoveryCodes[0]))).resolves.toMatchObject({ code: 'SECOND_STEP_BLOCKED' });
    await expect(services.mfa.status(services.actor('user', userId))).resolves.toMatchObject({ recoveryCodesLeft: 10 });
  });

  it('blocks once when the last wrong codes come at the same time: one block, one audit entry, one notice', async () => {
    const { userId, email } = await ada();
    await turnOn({ type: 'user', id: userId });
    await guessWrong(email, BLOCK_AFTER - 1);
    services.clock.advance(2 * 3_600_000); // past any lockout the guesses earned
    const challenges = await Promise.all([1, 2, 3].map(async () => ((await login(email)) as SecondStepView).challenge));

    const answers = await Promise.all(challenges.map((challenge) => refusal(secondStep(challenge, WRONG))));

    // Each met the block (423), or found its challenge voided by it before it was read (400, as any voided challenge).
    expect(answers.map((answer) => answer.code)).toContain('SECOND_STEP_BLOCKED');
    for (const answer of answers) expect(['SECOND_STEP_BLOCKED', 'INVALID_TOKEN']).toContain(answer.code);
    expect((await auditActions(userId)).filter((action) => action === 'mfa.blocked success')).toHaveLength(1);
    const notices = await db.dataSource.query<unknown[]>(`SELECT 1 FROM outbox WHERE type = $1 AND payload->'data'->>'principalId' = $2`, [
      Events.SecondStepBlocked,
      userId,
    ]);
    expect(notices).toHaveLength(1);
  });

  it('counts wrong codes however many right ones come between: the owner signing in every day hides no guesser', async () => {
    const { userId, email } = await ada();
    const { secret } = await turnOn({ type: 'user', id: userId });
    await guessWrong(email, BLOCK_AFTER - 2);
    services.clock.advance(STEP_MS);
    expect(await guess(email, () => totpCode(secret, now()))).toBe('signed-in');
    expect(await guessWrong(email, 2)).toEqual(['INVALID_CREDENTIALS', 'SECOND_STEP_BLOCKED']);
  });

  it('does not count a code already used: two sign-ins with one right code, or the same form sent again, refused but charged only to the throttle', async () => {
    const { userId, email } = await ada();
    const { secret, recoveryCodes } = await turnOn({ type: 'user', id: userId });
    await guessWrong(email, BLOCK_AFTER - 1);
    services.clock.advance(2 * 3_600_000); // past any lockout the guesses earned
    const code = totpCode(secret, now());
    const challenges = [await challengeOf(email), await challengeOf(email)];

    const answers = await Promise.all(
      challenges.map((challenge) =>
        secondStep(challenge, code).then(
          () => 'signed-in',
          (error: { code: string }) => error.code,
        ),
      ),
    );

    expect(answers.sort()).toEqual(['INVALID_CREDENTIALS', 'signed-in']);
    await expect(refusal(secondStep(await challengeOf(email), code))).resolves.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await secondStep(await challengeOf(email), recoveryCodes[0]);
    await expect(refusal(secondStep(await challengeOf(email), recoveryCodes[0]))).resolves.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    const [{ failures }] = await db.dataSource.query<Array<{ failures: number }>>('SELECT failures FROM throttle_counters WHERE key = $1', [
      `mfa:principal:${userId}`,
    ]);
    expect(failures).toBe(1);
    const reasons = await db.dataSource.query<Array<{ reason: string }>>(
      "SELECT details->>'reason' AS reason FROM audit_events WHERE target_id = $1 AND action = 'login.second-step-failed' AND details->>'reason' = 'used-code'",
      [userId],
    );
    expect(reasons).toHaveLength(3);
    await expect(services.mfa.status(services.actor('user', userId))).resolves.toMatchObject({ blocked: false });
    expect(await guessWrong(email, 1)).toEqual(['SECOND_STEP_BLOCKED']);
  });

  it('starts the count afresh with the first wrong code 30 days after the one that began it', async () => {
    expect(WRONG_CODE_WINDOW_DAYS).toBe(30);
    const { userId, email } = await ada();
    await turnOn({ type: 'user', id: userId });
    await guessWrong(email, BLOCK_AFTER - 1);
    services.clock.advance(WRONG_CODE_WINDOW_DAYS * 24 * 3_600_000);
    expect(await guessWrong(email, BLOCK_AFTER - 1)).not.toContain('SECOND_STEP_BLOCKED');
    expect(await guessWrong(email, 1)).toEqual(['SECOND_STEP_BLOCKED']);
  });

  it('is lifted by a password reset: the new password and a right code sign in, and wrong codes count afresh', async () => {
    const { userId, email, secret } = await blockedAda();
    await resetPassword(userId, 'an entirely new passphrase');
    const answer = (await services.auth.login({ client: client(), body: { email, password: 'an entirely new passphrase' } })) as SecondStepView;
    services.clock.advance(STEP_MS);
    await expect(secondStep(answer.challenge, totpCode(secret, now()))).resolves.toHaveProperty('accessToken');
    const [factor] = await db.dataSource.query<Array<{ wrong_codes: number; blocked_at: Date | null }>>(
      'SELECT wrong_codes, blocked_at FROM totp_factors WHERE user_id = $1',
      [userId],
    );
    expect(factor).toEqual({ wrong_codes: 0, blocked_at: null });
  });

  it('is shown to its owner in GET /v1/me/mfa (blocked, since when) and in the user table until a password reset lifts it', async () => {
    const { accountId, userId } = await blockedAda();
    const blockedAt = now().toISOString();
    const actor = services.actor('user', userId);
    const row = { actor, accountId, userId, client: client() };
    services.clock.advance(60_000);
    await expect(services.mfa.status(actor)).resolves.toEqual({
      enabled: true,
      enabledAt: expect.any(String),
      recoveryCodesLeft: 10,
      blocked: true,
      blockedAt,
    });
    await expect(services.users.get(row)).resolves.toMatchObject({ mfaEnabled: true, mfaBlocked: true });
    const listed = async () => (await services.users.list({ ...row, query: { limit: 10 } })).items.find((item) => item.id === userId);
    await expect(listed()).resolves.toMatchObject({ mfaEnabled: true, mfaBlocked: true });
    await resetPassword(userId, 'an entirely new passphrase');
    await expect(services.mfa.status(actor)).resolves.toEqual({
      enabled: true,
      enabledAt: expect.any(String),
      recoveryCodesLeft: 10,
      blocked: false,
      blockedAt: null,
    });
    await expect(services.users.get(row)).resolves.toMatchObject({ mfaEnabled: true, mfaBlocked: false });
    await expect(listed()).resolves.toMatchObject({ mfaEnabled: true, mfaBlocked: false });
  });

  it('is lifted by the person changing their password (from a session they still have)', async () => {
    const { userId, email, secret } = await blockedAda();
    const newPassword = 'another entirely new passphrase';
    await services.passwords.change({ actor: services.actor('user', userId), client: client(), body: { currentPassword: PASSWORD, newPassword } });
    const answer = (await services.auth.login({ client: client(), body: { email, password: newPassword } })) as SecondStepView;
    expect(answer.mfaRequired).toBe(true);
    services.clock.advance(STEP_MS);
    await expect(secondStep(answer.challenge, totpCode(secret, now()))).resolves.toHaveProperty('accessToken');
  });

  it("is lifted by an admin resetting a subuser's second step: its password alone signs in again", async () => {
    const { accountId, userId: adminId } = await ada();
    const [{ slug }] = await db.dataSource.query<Array<{ slug: string }>>('SELECT slug FROM accounts WHERE id = $1', [accountId]);
    const subuserId = await db.subuser(accountId, 'desk-blocked');
    await db.dataSource.query('UPDATE subusers SET password_hash = $2 WHERE id = $1', [subuserId, `fake:${PASSWORD}`]);
    await turnOn({ type: 'subuser', id: subuserId });
    const signIn = () => services.auth.subuserLogin({ client: client(), body: { account: slug, login: 'desk-blocked', password: PASSWORD } });
    for (let attempt = 1; attempt <= BLOCK_AFTER; attempt++) {
      const answer = (await signIn()) as SecondStepView;
      const refused = await refusal(secondStep(answer.challenge, WRONG));
      if (refused.code === 'TOO_MANY_REQUESTS') {
        services.clock.advance((refused.details as { retryAfterSeconds: number }).retryAfterSeconds * 1000);
        attempt--;
      }
    }
    await expect(refusal(signIn())).resolves.toMatchObject({ code: 'SECOND_STEP_BLOCKED' });
    // The admin sees why it cannot sign in, in the subuser and in the list.
    const asAdmin = { actor: services.actor('user', adminId), accountId, client: client() };
    await expect(services.subusers.get({ ...asAdmin, subuserId })).resolves.toMatchObject({ mfaEnabled: true, mfaBlocked: true });
    const listed = await services.subusers.list({ ...asAdmin, query: { limit: 10 } });
    expect(listed.items).toEqual([expect.objectContaining({ id: subuserId, mfaBlocked: true })]);
    await services.subusers.resetSecondStep({ ...asAdmin, subuserId });
    await expect(signIn()).resolves.toHaveProperty('accessToken');
    await expect(services.subusers.get({ ...asAdmin, subuserId })).resolves.toMatchObject({ mfaEnabled: false, mfaBlocked: false });
  });
});
