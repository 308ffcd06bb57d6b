import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticatorCode } from '#libs/testing/authenticator.js';
import type { CaughtMail } from '#libs/testing/mail-catcher.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, linkToken, NEW_PASSWORD, PASSWORD, People, type SignedIn } from './helpers/people.js';

// Authenticator secrets sealed under a key, as a production install keeps them (docs/deploy.md).
const keyDir = mkdtempSync(join(tmpdir(), 'portico-mfa-'));
writeFileSync(join(keyDir, 'mfa.key'), randomBytes(32).toString('base64'));
// The least MFA_BLOCK_AFTER_WRONG_CODES: the throttle's threshold, so that reaching it waits for no lockout.
const BLOCK_AFTER = 5;
const system = new TestSystem({ env: { MFA_SECRET_KEY_FILE: join(keyDir, 'mfa.key'), MFA_BLOCK_AFTER_WRONG_CODES: String(BLOCK_AFTER) } });
const people = new People(system);

let owner: SignedIn;
let secret: string;
let recoveryCodes: string[];

beforeAll(async () => {
  await system.start();
  owner = await people.signUp('two-step-voice');
});
afterAll(async () => {
  await system.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

const login = () => people.http.post('/v1/auth/login').send({ email: owner.email, password: PASSWORD });
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1';
const secondStep = (challenge: string, code: string) => people.http.post('/v1/auth/mfa').set('User-Agent', IPHONE).send({ challenge, code });

describe('two-step sign-in through HTTP', () => {
  it('is off at first, and setting it up needs the current password', async () => {
    const status = await people.http.get('/v1/me/mfa').set(bearer(owner.accessToken)).expect(200);
    expect(status.body).toEqual({ enabled: false, enabledAt: null, recoveryCodesLeft: 0, blocked: false, blockedAt: null });
    const refused = await people.http.post('/v1/me/mfa/totp').set(bearer(owner.accessToken)).send({ currentPassword: 'not the password at all' }).expect(400);
    expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'currentPassword' } });
    await people.http.post('/v1/me/mfa/totp').send({ currentPassword: PASSWORD }).expect(401);
  });

  it('turns on with the first code of the authenticator app, answering recovery codes once', async () => {
    const started = await people.http.post('/v1/me/mfa/totp').set(bearer(owner.accessToken)).send({ currentPassword: PASSWORD }).expect(200);
    secret = (started.body as { secret: string }).secret;
    expect((started.body as { otpauthUri: string }).otpauthUri).toMatch(/^otpauth:\/\/totp\/Portico:/);
    const confirmed = await people.http
      .post('/v1/me/mfa/totp/confirm')
      .set(bearer(owner.accessToken))
      .send({ code: authenticatorCode(secret) })
      .expect(200);
    recoveryCodes = (confirmed.body as { recoveryCodes: string[] }).recoveryCodes;
    expect(recoveryCodes).toHaveLength(10);
    const status = await people.http.get('/v1/me/mfa').set(bearer(owner.accessToken)).expect(200);
    expect(status.body).toMatchObject({ enabled: true, recoveryCodesLeft: 10 });
    const [stored] = await system.database.query<{ secret: Buffer }>('SELECT secret FROM identity.totp_factors');
    expect(stored.secret[0]).toBe(1);
    const notice = await people.nthMail(owner.email, (mail) => mail.subject.includes('two-step sign-in was turned on'));
    expect(notice.text).toContain('every other session was ended');
  });

  it('makes the password only the first step: a challenge, no tokens, and no way in with a wrong code', async () => {
    const first = await login().expect(200);
    expect(first.body).toEqual({ mfaRequired: true, challenge: expect.any(String), expiresIn: 300, methods: ['totp', 'recovery-code'] });
    const wrong = await secondStep(first.body.challenge as string, '000000').expect(401);
    expect(wrong.body).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    const missing = await people.http.post('/v1/auth/mfa').send({ challenge: first.body.challenge }).expect(400);
    expect(missing.body.message).toContain('code');
  });

  it('signs in with the next code of the app, then with a recovery code once only', async () => {
    const withApp = await secondStep((await login().expect(200)).body.challenge as string, authenticatorCode(secret, 30)).expect(200);
    const sessions = await people.http
      .get('/v1/me/sessions')
      .set(bearer((withApp.body as { accessToken: string }).accessToken))
      .expect(200);
    // The session is the second step's: opened by the request that passed it.
    expect(sessions.body.find((session: { current: boolean }) => session.current)).toMatchObject({ userAgent: IPHONE, device: 'Safari 17 on iPhone' });

    const withRecovery = await secondStep((await login().expect(200)).body.challenge as string, recoveryCodes[0]).expect(200);
    expect(withRecovery.body).toMatchObject({ tokenType: 'Bearer' });
    await secondStep((await login().expect(200)).body.challenge as string, recoveryCodes[0]).expect(401);
  });

  it('mails the person of a sign-in with a recovery code: when, from which address and device, the codes left, what to do if it was not them', async () => {
    const notice = await people.nthMail(owner.email, (mail) => mail.subject === 'Portico: a recovery code was used to sign in');
    expect(notice.text).toMatch(
      /someone signed in to your Portico profile with its password and a recovery code .*, from the address [\d.:a-f]+ \(Safari 17 on iPhone\)\./,
    );
    expect(notice.text).toContain('Recovery codes left: 9.');
    expect(notice.text).not.toContain('Renew your recovery codes now');
    expect(notice.text).toMatch(/If it was not you, .* reset your password at once \(http:\/\/[^)]+\/reset-password\)/);
    expect(notice.html).toContain('Safari 17 on iPhone');
  });

  it('asks the person to renew the recovery codes once a sign-in leaves two or fewer', async () => {
    // Codes 2 to 8 (the first is used; the second is kept for turning it off below): 2 left after the last.
    for (const code of recoveryCodes.slice(2, 9)) await secondStep((await login().expect(200)).body.challenge as string, code).expect(200);
    const usedCode = (mail: CaughtMail) => mail.subject.startsWith('Portico: a recovery code was used to sign in');
    await people.nthMail(owner.email, usedCode, 8);
    const notices = system.mail.to(owner.email).filter(usedCode);
    const left = (mail: CaughtMail) => Number(/Recovery codes left: (\d+)\./.exec(mail.text)![1]);
    expect(notices.map(left).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const asked = notices.filter((mail) => mail.subject === 'Portico: a recovery code was used to sign in, renew your codes');
    expect(asked.map(left)).toEqual([2]);
    expect(asked[0].text).toContain('Recovery codes left: 2. Renew your recovery codes now');
  });

  it('turns off with the password and a recovery code; the password alone signs in again', async () => {
    await people.http.post('/v1/me/mfa/disable').set(bearer(owner.accessToken)).send({ currentPassword: PASSWORD, code: '000000' }).expect(400);
    await people.http.post('/v1/me/mfa/disable').set(bearer(owner.accessToken)).send({ currentPassword: PASSWORD, code: recoveryCodes[1] }).expect(204);
    const signedIn = await login().expect(200);
    expect(signedIn.body).toHaveProperty('accessToken');
    const events = await people.http.get(`/v1/accounts/${owner.accountId}/audit-events`).set(bearer(owner.accessToken)).expect(200);
    const actions = (events.body as { items: Array<{ action: string }> }).items.map((event) => event.action);
    expect(actions).toEqual(expect.arrayContaining(['mfa.enabled', 'login.second-step-required', 'login.second-step-failed', 'mfa.disabled']));
  });
});

describe("a subuser's second step", () => {
  const SUBUSER_PASSWORD = 'front desk passphrase one';
  const subuserLogin = () => people.http.post('/v1/auth/subuser-login').send({ account: 'two-step-voice', login: 'desk-1', password: SUBUSER_PASSWORD });
  let subuserId: string;

  it('is set up by the subuser itself, and then asked for on its login page', async () => {
    const created = await people.http
      .post(`/v1/accounts/${owner.accountId}/subusers`)
      .set(bearer(owner.accessToken))
      .send({ login: 'desk-1', password: SUBUSER_PASSWORD, roles: ['Support'], email: 'desk-1@two-step.test' })
      .expect(201);
    subuserId = (created.body as { id: string }).id;
    const session = (await subuserLogin().expect(200)).body as { accessToken: string };
    const started = await people.http.post('/v1/me/mfa/totp').set(bearer(session.accessToken)).send({ currentPassword: SUBUSER_PASSWORD }).expect(200);
    expect(decodeURIComponent((started.body as { otpauthUri: string }).otpauthUri)).toContain('Portico:two-step-voice/desk-1');
    const code = authenticatorCode((started.body as { secret: string }).secret);
    await people.http.post('/v1/me/mfa/totp/confirm').set(bearer(session.accessToken)).send({ code }).expect(200);
    expect((await subuserLogin().expect(200)).body).toMatchObject({ mfaRequired: true });
    const view = await people.http.get(`/v1/accounts/${owner.accountId}/subusers/${subuserId}`).set(bearer(owner.accessToken)).expect(200);
    expect(view.body).toMatchObject({ mfaEnabled: true, mfaBlocked: false });
  });

  it('is turned off by an admin of its account when its phone is lost: the password alone signs in again, and its e-mail is told', async () => {
    const admin = (await login().expect(200)).body as { accessToken?: string };
    expect(admin.accessToken).toEqual(expect.any(String));
    const route = `/v1/accounts/${owner.accountId}/subusers/${subuserId}/mfa`;
    await people.http.delete(route).expect(401);
    await people.http.delete(route).set(bearer(admin.accessToken!)).expect(204);
    await people.http.delete(route).set(bearer(admin.accessToken!)).expect(409);
    expect((await subuserLogin().expect(200)).body).toHaveProperty('accessToken');
    const notice = await people.nthMail('desk-1@two-step.test', (mail) => mail.subject.includes('an administrator turned off your two-step sign-in'));
    expect(notice.text).toContain('until you set it up again');
  });
});

describe('a second step blocked by wrong codes, through HTTP', () => {
  let blocked: SignedIn;
  let blockedSecret: string;
  const blockedLogin = (password = PASSWORD) => people.http.post('/v1/auth/login').send({ email: blocked.email, password });

  it(`answers 423 SECOND_STEP_BLOCKED after ${BLOCK_AFTER} wrong codes, voiding the challenge and refusing the password step, and mails the person`, async () => {
    blocked = await people.signUp('two-step-blocked');
    const started = await people.http.post('/v1/me/mfa/totp').set(bearer(blocked.accessToken)).send({ currentPassword: PASSWORD }).expect(200);
    blockedSecret = (started.body as { secret: string }).secret;
    await people.http
      .post('/v1/me/mfa/totp/confirm')
      .set(bearer(blocked.accessToken))
      .send({ code: authenticatorCode(blockedSecret) })
      .expect(200);
    const challenge = (await blockedLogin().expect(200)).body.challenge as string;
    for (let attempt = 1; attempt < BLOCK_AFTER; attempt++) await secondStep(challenge, '000000').expect(401);
    const last = await secondStep(challenge, '000000').expect(423);
    expect(last.body).toMatchObject({ code: 'SECOND_STEP_BLOCKED', message: expect.stringContaining('too many wrong codes') });
    // The challenge was voided with the block; a new sign-in is refused at its password step.
    await secondStep(challenge, authenticatorCode(blockedSecret, 30)).expect(400);
    expect((await blockedLogin().expect(423)).body).toMatchObject({ code: 'SECOND_STEP_BLOCKED' });
    // The session that turned it on, opened before the block, reads it and since when.
    const status = await people.http.get('/v1/me/mfa').set(bearer(blocked.accessToken)).expect(200);
    expect(status.body).toMatchObject({ enabled: true, blocked: true, blockedAt: expect.any(String) });
    expect(Date.now() - Date.parse((status.body as { blockedAt: string }).blockedAt)).toBeLessThan(60_000);
    // And the account's user table says why the person cannot sign in.
    const row = await people.http.get(`/v1/accounts/${blocked.accountId}/users/${blocked.userId}`).set(bearer(blocked.accessToken)).expect(200);
    expect(row.body).toMatchObject({ mfaEnabled: true, mfaBlocked: true });
    const notice = await people.nthMail(blocked.email, (mail) => mail.subject.includes('two-step sign-in blocked after too many wrong codes'));
    expect(notice.text).toContain(`${BLOCK_AFTER} wrong codes within 30 days had been typed`);
    expect(notice.text).toContain('/reset-password');
  });

  it('is lifted by a password reset: the new password and a right code sign in', async () => {
    await people.http.post('/v1/auth/password-reset').send({ email: blocked.email }).expect(202);
    const mail = await people.nthMail(blocked.email, (caught) => caught.text.includes('/reset-password?token='));
    await people.http
      .post('/v1/auth/password-reset/confirm')
      .send({ token: linkToken(mail, '/reset-password'), password: NEW_PASSWORD })
      .expect(204);
    const challenge = (await blockedLogin(NEW_PASSWORD).expect(200)).body.challenge as string;
    const signedIn = await secondStep(challenge, authenticatorCode(blockedSecret, 30)).expect(200);
    const status = await people.http
      .get('/v1/me/mfa')
      .set(bearer((signedIn.body as { accessToken: string }).accessToken))
      .expect(200);
    expect(status.body).toMatchObject({ enabled: true, blocked: false, blockedAt: null });
  });
});
