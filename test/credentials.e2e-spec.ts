import { eventually } from '#libs/testing/eventually.js';
import { TestNatsRequester } from '#libs/testing/nats-rpc.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, linkToken, NEW_PASSWORD, PASSWORD, People, type SignedIn } from './helpers/people.js';

// Debug logging, so that the test of P6 reads everything the services write; 3 sign-ups an address, for the test of that limit.
const system = new TestSystem({ env: { TRUST_PROXY: 'true', LOG_LEVEL: 'debug', SIGNUP_ADDRESS_LIMIT: '3' } });
const people = new People(system);
const TRICKY = 'Tricky Pass Phrase With Trailing Space ';

let acme: SignedIn;
let address = 0;
/** A client address of its own for each test, so throttling counters do not spill from one test to the next. */
const from = () => ({ 'x-forwarded-for': `198.51.100.${++address}` });

beforeAll(() => system.start());
afterAll(() => system.stop());

describe('no default accounts (P7)', () => {
  it('starts with no user and no subuser in a freshly migrated database', async () => {
    const [users] = await system.database.query<{ count: string }>('SELECT count(*) FROM identity.users');
    const [subusers] = await system.database.query<{ count: string }>('SELECT count(*) FROM identity.subusers');
    expect([users.count, subusers.count]).toEqual(['0', '0']);
    acme = await people.signUp('acme-voice', 'owner@acme.test');
  });
});

describe('the password policy, through activation (P1-P3)', () => {
  async function activationToken(email: string): Promise<string> {
    await people.invite(acme, { email, role: 'Developer' });
    return linkToken(await people.nthMail(email), '/activate');
  }

  it.each([
    ['11 characters', 'elevenchars', 'at least 12'],
    ['a common password', 'password1234', 'too common'],
    ['a common password with symbols added', 'Qwerty123456!', 'too common'],
    ['the e-mail', 'p1.person@acme.test', 'must not contain'],
    ['the e-mail local part inside', 'i am p1.person, hello', 'must not contain'],
    ['the account name inside', 'welcome to account acme-voice!', 'must not contain'],
  ])('refuses %s with 400 WEAK_PASSWORD, and the token still works afterwards', async (_label, password, message) => {
    const email = `p1.person@acme.test`;
    const token = (await system.database.query('SELECT 1 FROM identity.users WHERE email_lower = $1', [email])).length
      ? linkToken(await people.nthMail(email), '/activate')
      : await activationToken(email);
    const response = await people.http.post('/v1/auth/activate').send({ token, password }).expect(400);
    expect(response.body).toMatchObject({ code: 'WEAK_PASSWORD', details: { field: 'password' } });
    expect(response.body.message).toContain(message);
  });

  it.each([
    ['a pass-phrase of lower-case words (no composition rules, P2)', 'p2.person@acme.test', 'correct horse battery staple'],
    ['64 characters', 'p1.sixtyfour@acme.test', 'x'.repeat(40) + ' twenty four more chars!'],
    ['128 characters', 'p1.max@acme.test', 'y'.repeat(100) + ' and twenty-seven more chars'],
  ])('accepts %s', async (_label, email, password) => {
    const token = await activationToken(email);
    await people.http.post('/v1/auth/activate').send({ token, password }).expect(204);
    await people.http.post('/v1/auth/login').set(from()).send({ email, password }).expect(200);
  });

  it('refuses 129 characters', async () => {
    const token = await activationToken('p1.toolong@acme.test');
    await people.http
      .post('/v1/auth/activate')
      .send({ token, password: 'z'.repeat(129) })
      .expect(400);
  });
});

describe('passwords are verified exactly as typed (P4) and stored as argon2id (P6)', () => {
  let user: SignedIn;

  beforeAll(async () => {
    const userId = await people.invite(acme, { email: 'exact@acme.test', role: 'Developer' });
    await people.activateFromMail('exact@acme.test', TRICKY);
    user = { ...(await people.login('exact@acme.test', TRICKY)), accountId: acme.accountId, userId };
  });

  it('accepts it exactly as typed, and stores argon2id with m >= 19456, t >= 2', async () => {
    await people.http.post('/v1/auth/login').set(from()).send({ email: 'exact@acme.test', password: TRICKY }).expect(200);
    const [row] = await system.database.query<{ password_hash: string }>('SELECT password_hash FROM identity.users WHERE id = $1', [user.userId]);
    const [, memory, time] = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=\d+\$/.exec(row.password_hash)!;
    expect(Number(memory)).toBeGreaterThanOrEqual(19_456);
    expect(Number(time)).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['without the trailing space', TRICKY.trimEnd()],
    ['with a leading space', ` ${TRICKY}`],
    ['lower-cased', TRICKY.toLowerCase()],
    ['upper-cased', TRICKY.toUpperCase()],
    ['truncated to 32 characters', TRICKY.slice(0, 32)],
  ])('refuses the password %s', async (_label, password) => {
    const address = from();
    await people.http.post('/v1/auth/login').set(address).send({ email: 'exact@acme.test', password }).expect(401);
  });

  it('never returns a hash or a password in any answer, and never writes them to the logs', async () => {
    const bodies = [
      await people.http.get('/v1/me').set(bearer(user.accessToken)),
      await people.http.get(`/v1/accounts/${acme.accountId}/users`).set(bearer(acme.accessToken)),
      await people.http.get(`/v1/accounts/${acme.accountId}/users/${user.userId}`).set(bearer(acme.accessToken)),
      await people.http.get(`/v1/accounts/${acme.accountId}/audit-events`).set(bearer(acme.accessToken)),
      await people.http.post('/v1/auth/login').set(from()).send({ email: 'exact@acme.test', password: 'wrong password entirely' }),
    ].map((response) => JSON.stringify(response.body));
    const [row] = await system.database.query<{ password_hash: string }>('SELECT password_hash FROM identity.users WHERE id = $1', [user.userId]);
    const logs = [...system.logs.values()].flat().join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const text of [...bodies, logs]) {
      expect(text).not.toContain('$argon2');
      expect(text).not.toContain(row.password_hash.slice(-20));
      expect(text).not.toContain(TRICKY.trim());
      expect(text).not.toContain(PASSWORD);
    }
  });
});

describe('changing a password (P5, B3)', () => {
  let user: SignedIn;
  let other: { accessToken: string; refreshToken: string };

  beforeAll(async () => {
    user = await people.member(acme, 'changer@acme.test', 'Developer');
    other = await people.login('changer@acme.test');
  });

  it('needs the current password', async () => {
    const missing = await people.http.post('/v1/me/password').set(bearer(user.accessToken)).send({ newPassword: NEW_PASSWORD }).expect(400);
    expect(missing.body.message).toContain('currentPassword');
    const wrong = await people.http
      .post('/v1/me/password')
      .set(bearer(user.accessToken))
      .send({ currentPassword: 'not my password at all', newPassword: NEW_PASSWORD })
      .expect(400);
    expect(wrong.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'currentPassword' } });
    await people.login('changer@acme.test', PASSWORD);
  });

  it('applies the policy to the new password', async () => {
    const response = await people.http
      .post('/v1/me/password')
      .set(bearer(user.accessToken))
      .send({ currentPassword: PASSWORD, newPassword: 'changer@acme.test is me' })
      .expect(400);
    expect(response.body.code).toBe('WEAK_PASSWORD');
  });

  it('changes it: the other sessions end, this one stays, and a notice goes to the e-mail', async () => {
    await people.http.post('/v1/me/password').set(bearer(user.accessToken)).send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD }).expect(204);
    await people.http.get('/v1/me').set(bearer(user.accessToken)).expect(200);
    await people.http.get('/v1/me').set(bearer(other.accessToken)).expect(401);
    await people.http.post('/v1/auth/refresh').send({ refreshToken: other.refreshToken }).expect(401);
    await people.http.post('/v1/auth/login').set(from()).send({ email: 'changer@acme.test', password: PASSWORD }).expect(401);
    await people.login('changer@acme.test', NEW_PASSWORD);
    const notice = await people.nthMail('changer@acme.test', (mail) => mail.subject.includes('password was changed'));
    expect(notice.text).not.toContain(NEW_PASSWORD);
  });
});

describe('reset by mail (R1-R7, B2, B3)', () => {
  let user: SignedIn;

  beforeAll(async () => {
    user = await people.member(acme, 'forgetful@acme.test', 'Developer');
  });

  const resetMails = () => system.mail.to('forgetful@acme.test').filter((mail) => mail.subject.includes('reset'));

  it('answers 202 with the same body for a known and an unknown e-mail (B2)', async () => {
    const address = from();
    const known = await people.http.post('/v1/auth/password-reset').set(address).send({ email: 'forgetful@acme.test' }).expect(202);
    const unknown = await people.http.post('/v1/auth/password-reset').set(address).send({ email: 'nobody@acme.test' }).expect(202);
    expect(known.body).toEqual(unknown.body);
    expect(known.body).toEqual({ accepted: true });
    await people.nthMail('forgetful@acme.test', (mail) => mail.subject.includes('reset'));
    expect(system.mail.to('nobody@acme.test')).toEqual([]);
  });

  it('mails a token of >= 128 random bits, stored only as a hash, expiring in about an hour (R1, R3)', async () => {
    const token = linkToken(resetMails()[0], '/reset-password');
    expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(16);
    const rows = await system.database.query<{ token_hash: string; minutes: string }>(
      `SELECT token_hash, round(extract(epoch FROM expires_at - created_at) / 60) AS minutes FROM identity.action_tokens WHERE purpose = 'reset' AND user_id = $1`,
      [user.userId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].minutes).toBe('60');
    const dump = JSON.stringify(await system.database.query('SELECT * FROM identity.action_tokens'));
    expect(dump).not.toContain(token);
  });

  it('changes nothing until the token is used: the password and the sessions stay (R5)', async () => {
    await people.http.get('/v1/me').set(bearer(user.accessToken)).expect(200);
    await people.login('forgetful@acme.test', PASSWORD);
  });

  it('voids the older token when a newer one is issued, and binds it to its purpose (R4)', async () => {
    await people.http.post('/v1/auth/password-reset').set(from()).send({ email: 'forgetful@acme.test' }).expect(202);
    await system.mail.waitFor(() => resetMails().length >= 2);
    const [older, newer] = resetMails().map((mail) => linkToken(mail, '/reset-password'));
    const stale = await people.http.post('/v1/auth/password-reset/confirm').send({ token: older, password: NEW_PASSWORD }).expect(400);
    expect(stale.body.code).toBe('INVALID_TOKEN');
    await people.http.post('/v1/auth/activate').send({ token: newer, password: NEW_PASSWORD }).expect(400);
  });

  it('sets the password with the token, ends every session, sends a notice, and signs nobody in (R2, R6, B3)', async () => {
    const another = await people.login('forgetful@acme.test');
    const token = linkToken(resetMails()[1], '/reset-password');
    const response = await people.http.post('/v1/auth/password-reset/confirm').send({ token, password: NEW_PASSWORD }).expect(204);
    expect(response.body).toEqual({});
    expect(response.headers['set-cookie']).toBeUndefined();
    for (const session of [user, another]) {
      await people.http.get('/v1/me').set(bearer(session.accessToken)).expect(401);
      await people.http.post('/v1/auth/refresh').send({ refreshToken: session.refreshToken }).expect(401);
    }
    const again = await people.http.post('/v1/auth/password-reset/confirm').send({ token, password: 'a third password for sure' }).expect(400);
    expect(again.body.code).toBe('INVALID_TOKEN');
    await people.login('forgetful@acme.test', NEW_PASSWORD);
    await people.nthMail('forgetful@acme.test', (mail) => mail.subject.includes('password was changed'));
  });

  it('applies the policy at confirmation, leaving the token usable', async () => {
    await people.http.post('/v1/auth/password-reset').set(from()).send({ email: 'forgetful@acme.test' }).expect(202);
    await system.mail.waitFor(() => resetMails().length >= 3);
    const token = linkToken(resetMails()[2], '/reset-password');
    await people.http.post('/v1/auth/password-reset/confirm').send({ token, password: 'letmein12345' }).expect(400);
    await people.http.post('/v1/auth/password-reset/confirm').send({ token, password: 'yet another long pass phrase' }).expect(204);
  });

  it('rate-limits requests per e-mail (silently: the answer stays 202) and per address (429) (R5)', async () => {
    const email = 'flooded@acme.test';
    await people.member(acme, email, 'Developer');
    for (let i = 0; i < 6; i += 1) await people.http.post('/v1/auth/password-reset').set(from()).send({ email }).expect(202);
    // Identity issues a link for the first 3 requests only. Each voids the one before, so notifications sends each of
    // those 3 mails, or cancels it when the next link was issued before it went out; the last always goes.
    const resetMailsOf = () =>
      system.database.query<{ status: string }>(`SELECT status FROM notifications.deliveries WHERE recipient = $1 AND template = 'password-reset'`, [email]);
    await eventually(
      'the 3 reset mails to be sent or cancelled',
      async () => (await resetMailsOf()).filter((row) => row.status === 'sent' || row.status === 'cancelled').length >= 3,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const outcomes = (await resetMailsOf()).map((row) => row.status);
    expect(outcomes).toHaveLength(3);
    expect(outcomes).toContain('sent');
    expect(system.mail.to(email).filter((mail) => mail.subject.includes('reset'))).toHaveLength(outcomes.filter((status) => status === 'sent').length);
    const address = from();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      statuses.push(
        (
          await people.http
            .post('/v1/auth/password-reset')
            .set(address)
            .send({ email: `someone${i}@acme.test` })
        ).status,
      );
    }
    expect(statuses.slice(0, 10).every((status) => status === 202)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it('refuses a password field where an admin could set one (R7)', async () => {
    const create = await people.http
      .post(`/v1/accounts/${acme.accountId}/users`)
      .set(bearer(acme.accessToken))
      .send({ firstName: 'A', lastName: 'B', email: 'withpw@acme.test', phone: '+447700900999', role: 'Developer', password: NEW_PASSWORD })
      .expect(400);
    expect(create.body.message).toContain('password');
    await people.http.patch(`/v1/accounts/${acme.accountId}/users/${user.userId}`).set(bearer(acme.accessToken)).send({ password: NEW_PASSWORD }).expect(400);
  });
});

describe('moving a login to another e-mail', () => {
  let user: SignedIn;

  beforeAll(async () => {
    user = await people.member(acme, 'mover@acme.test', 'Developer');
  });

  const ask = (body: object) => people.http.post('/v1/me/email').set(bearer(user.accessToken)).set(from()).send(body);

  it('needs the current password, and a new address that is an e-mail', async () => {
    const wrong = await ask({ newEmail: 'mover@elsewhere.test', currentPassword: 'not my password at all' }).expect(400);
    expect(wrong.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'currentPassword' } });
    const bad = await ask({ newEmail: 'not an address', currentPassword: PASSWORD }).expect(400);
    expect(bad.body.message).toContain('newEmail');
    await ask({ newEmail: 'mover@elsewhere.test' }).expect(400);
    expect(system.mail.to('mover@elsewhere.test')).toEqual([]);
  });

  it('answers 202 alike whether or not the new address has a login; that address is told, and nobody else learns which', async () => {
    const free = await ask({ newEmail: 'mover@elsewhere.test', currentPassword: PASSWORD }).expect(202);
    const taken = await ask({ newEmail: 'owner@acme.test', currentPassword: PASSWORD }).expect(202);
    expect(free.body).toEqual({ accepted: true });
    expect(taken.body).toEqual(free.body);
    const inUse = await people.nthMail('owner@acme.test', (mail) => mail.subject.includes('already has a login'));
    expect(inUse.text).not.toContain('mover');
    expect(inUse.links.some((link) => link.includes('/confirm-email'))).toBe(false);
    // The in-use request voided the link mailed to the free address just before it.
    const stale = linkToken(await people.nthMail('mover@elsewhere.test'), '/confirm-email');
    const refused = await people.http.post('/v1/auth/email-change/confirm').send({ token: stale }).expect(400);
    expect(refused.body.code).toBe('INVALID_TOKEN');
  });

  it('moves the login once the new address confirms: sign-in takes the new address only, the table shows it, the old address is told, and sessions stay', async () => {
    await ask({ newEmail: 'Mover@Elsewhere.test', currentPassword: PASSWORD }).expect(202);
    const confirmation = await people.nthMail('mover@elsewhere.test', (mail) => mail.subject.includes('confirm your new login e-mail'), 2);
    expect(confirmation.text).toContain('instead of mover@acme.test');
    await people.login('mover@acme.test');

    const moved = await people.http
      .post('/v1/auth/email-change/confirm')
      .send({ token: linkToken(confirmation, '/confirm-email') })
      .expect(200);

    expect(moved.body).toEqual({ email: 'Mover@Elsewhere.test' });
    await people.http.post('/v1/auth/login').set(from()).send({ email: 'mover@acme.test', password: PASSWORD }).expect(401);
    await people.login('mover@elsewhere.test');
    await people.http.get('/v1/me').set(bearer(user.accessToken)).expect(200);
    const row = await people.http.get(`/v1/accounts/${acme.accountId}/users/${user.userId}`).set(bearer(acme.accessToken)).expect(200);
    expect(row.body.email).toBe('Mover@Elsewhere.test');
    const found = await people.http.get(`/v1/accounts/${acme.accountId}/users`).query({ search: 'elsewhere' }).set(bearer(acme.accessToken)).expect(200);
    expect(found.body.items.map((item: { id: string }) => item.id)).toEqual([user.userId]);
    const notice = await people.nthMail('mover@acme.test', (mail) => mail.subject.includes('login e-mail was changed'));
    expect(notice.text).toContain('to Mover@Elsewhere.test');
  });

  it('sends password resets to the new address only', async () => {
    await people.http.post('/v1/auth/password-reset').set(from()).send({ email: 'mover@acme.test' }).expect(202);
    await people.http.post('/v1/auth/password-reset').set(from()).send({ email: 'mover@elsewhere.test' }).expect(202);
    await people.nthMail('mover@elsewhere.test', (mail) => mail.subject.includes('reset'));
    expect(system.mail.to('mover@acme.test').filter((mail) => mail.subject.includes('reset'))).toEqual([]);
  });

  it('moves the login back from the notice ("it was not me"): every session ends, the password stops working, a reset link goes to the address restored', async () => {
    const other = await people.login('mover@elsewhere.test');
    const notice = await people.nthMail('mover@acme.test', (mail) => mail.subject.includes('login e-mail was changed'));

    const back = await people.http
      .post('/v1/auth/email-change/undo')
      .send({ token: linkToken(notice, '/undo-email-change') })
      .expect(200);

    expect(back.body).toEqual({ email: 'mover@acme.test' });
    for (const session of [user, other]) {
      await people.http.get('/v1/me').set(bearer(session.accessToken)).expect(401);
      await people.http.post('/v1/auth/refresh').send({ refreshToken: session.refreshToken }).expect(401);
    }
    for (const email of ['mover@acme.test', 'mover@elsewhere.test']) {
      await people.http.post('/v1/auth/login').set(from()).send({ email, password: PASSWORD }).expect(401);
    }
    const reset = await people.nthMail('mover@acme.test', (mail) => mail.subject.includes('reset'));
    await people.http
      .post('/v1/auth/password-reset/confirm')
      .send({ token: linkToken(reset, '/reset-password'), password: NEW_PASSWORD })
      .expect(204);
    await people.login('mover@acme.test', NEW_PASSWORD);
    const again = await people.http
      .post('/v1/auth/email-change/undo')
      .send({ token: linkToken(notice, '/undo-email-change') })
      .expect(400);
    expect(again.body.code).toBe('INVALID_TOKEN');
  });
});

describe('open sign-up is throttled per client address', () => {
  it('lets SIGNUP_ADDRESS_LIMIT sign-ups from one address through, then answers 429 with Retry-After and creates nothing; other addresses still sign up', async () => {
    const address = from();
    const signUp = (slug: string, client = address) =>
      people.http
        .post('/v1/accounts')
        .set(client)
        .send({ name: `Account ${slug}`, slug, owner: { firstName: 'Flo', lastName: 'Od', email: `owner@${slug}.test`, phone: '+447700900100' } });
    for (const slug of ['flood-1', 'flood-2', 'flood-3']) await signUp(slug).expect(201);
    const refused = await signUp('flood-4').expect(429);
    expect(refused.body).toMatchObject({ code: 'TOO_MANY_REQUESTS', details: { retryAfterSeconds: expect.any(Number) } });
    expect(refused.body.details.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused.headers['retry-after']).toBe(String(refused.body.details.retryAfterSeconds));
    expect(await system.database.query(`SELECT slug FROM identity.accounts WHERE slug = 'flood-4'`)).toEqual([]);
    await signUp('flood-5', from()).expect(201);
  });

  it('counts an IPv6 client by its /64: other addresses of the same /64 share the limit', async () => {
    const signUp = (slug: string, ip: string) =>
      people.http
        .post('/v1/accounts')
        .set({ 'x-forwarded-for': ip })
        .send({ name: `Account ${slug}`, slug, owner: { firstName: 'Flo', lastName: 'Od', email: `owner@${slug}.test`, phone: '+447700900100' } });
    for (const [n, host] of ['1', 'a:b:c', 'ffff:ffff:fffe'].entries()) await signUp(`six-${n}`, `2001:db8:64:1::${host}`).expect(201);
    await signUp('six-3', '2001:db8:64:1:ffff:ffff:ffff:ffff').expect(429);
    await signUp('six-4', '2001:db8:64:2::1').expect(201);
  });

  it('still answers a gateway of the previous release on identity.accounts.create (the bare body, no address: not throttled)', async () => {
    const nats = await TestNatsRequester.open(system.nats.url);
    try {
      for (const slug of ['old-gateway-1', 'old-gateway-2', 'old-gateway-3', 'old-gateway-4']) {
        const body = { name: `Account ${slug}`, slug, owner: { firstName: 'Old', lastName: 'Gateway', email: `owner@${slug}.test`, phone: '+447700900100' } };
        expect(await nats.send('identity.accounts.create', body)).toMatchObject({ response: { slug } });
      }
    } finally {
      await nats.close();
    }
  });
});
