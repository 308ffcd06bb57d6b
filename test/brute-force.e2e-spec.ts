import request from 'supertest';
import { eventually } from '#libs/testing/eventually.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, PASSWORD, People, type SignedIn } from './helpers/people.js';

const WRONG = 'certainly not the password';

describe('throttling, enumeration and the audit trail (B1, B2, B4)', () => {
  const system = new TestSystem({ env: { TRUST_PROXY: 'true' } });
  const people = new People(system);
  let acme: SignedIn;
  let victim: SignedIn;
  let address = 0;
  const newAddress = () => `203.0.113.${++address}`;

  beforeAll(async () => {
    await system.start();
    acme = await people.signUp('acme');
    victim = await people.member(acme, 'victim@acme.test', 'Developer');
  });
  afterAll(() => system.stop());

  const login = (email: string, password: string, ip = newAddress()) =>
    request(system.url).post('/v1/auth/login').set('x-forwarded-for', ip).send({ email, password });

  it('locks an identifier after 5 failures, whatever the addresses, even for the right password; unknown e-mails alike', async () => {
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 6; i += 1) known.push((await login('victim@acme.test', WRONG)).status);
    for (let i = 0; i < 6; i += 1) unknown.push((await login('ghost@acme.test', WRONG)).status);
    expect(known).toEqual([401, 401, 401, 401, 401, 429]);
    expect(unknown).toEqual(known);
    const locked = await login('victim@acme.test', PASSWORD).expect(429);
    const lockedUnknown = await login('ghost@acme.test', PASSWORD).expect(429);
    // Same answer for a known and an unknown identifier; the seconds left may differ by one across a second boundary.
    const same = (body: { details: { retryAfterSeconds: number } }) => ({ ...body, requestId: 0, details: { ...body.details, retryAfterSeconds: 0 } });
    expect(same(locked.body)).toEqual(same(lockedUnknown.body));
    expect(Math.abs(locked.body.details.retryAfterSeconds - lockedUnknown.body.details.retryAfterSeconds)).toBeLessThanOrEqual(1);
    expect(locked.body).toMatchObject({ code: 'TOO_MANY_REQUESTS', details: { retryAfterSeconds: expect.any(Number) } });
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(50);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('counts guesses of the current password through a session as sign-ins of that login: one budget, not two', async () => {
    const guesser = await people.member(acme, 'session-holder@acme.test', 'Developer');
    const guess = () =>
      request(system.url)
        .post('/v1/me/password')
        .set('x-forwarded-for', newAddress())
        .set(bearer(guesser.accessToken))
        .send({ currentPassword: WRONG, newPassword: 'a brand new passphrase here' });
    for (let i = 0; i < 5; i += 1) await guess().expect(400);
    await guess().expect(429);
    // The sign-in form is locked for that login too, even with the right password.
    await login('session-holder@acme.test', PASSWORD).expect(429);
  });

  it('throttles one address trying many identifiers (20 failures), but not other addresses', async () => {
    const ip = newAddress();
    for (let i = 0; i < 20; i += 1) await login(`sprayed${i}@acme.test`, WRONG, ip).expect(401);
    await login('sprayed-next@acme.test', WRONG, ip).expect(429);
    await login(acme.email, PASSWORD, ip).expect(429);
    await login(acme.email, PASSWORD).expect(200);
  });

  it('takes the address the proxy appended, not one the client wrote: a forged X-Forwarded-For does not dodge the address limit', async () => {
    const ip = newAddress();
    const forged = (i: number) => `198.51.100.${i}, ${ip}`;
    for (let i = 0; i < 20; i += 1)
      await request(system.url)
        .post('/v1/auth/login')
        .set('x-forwarded-for', forged(i))
        .send({ email: `forged${i}@acme.test`, password: WRONG })
        .expect(401);
    await request(system.url).post('/v1/auth/login').set('x-forwarded-for', forged(99)).send({ email: 'forged-next@acme.test', password: WRONG }).expect(429);
  });

  it('counts atomically: of 30 parallel wrong attempts on one account, exactly 5 are checked', async () => {
    const target = await people.member(acme, 'parallel@acme.test', 'Developer');
    const statuses = (await Promise.all(Array.from({ length: 30 }, () => login('parallel@acme.test', WRONG)))).map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(25);
    const [counter] = await system.database.query<{ failures: number }>(`SELECT failures FROM identity.throttle_counters WHERE key = $1`, [
      'signin:user:parallel@acme.test',
    ]);
    expect(counter.failures).toBe(5);
    // Refused sign-ins are audited as their answer leaves (B2: no round trip more for a known login): their rows may come just after.
    const failures = async () =>
      (
        await request(system.url)
          .get(`/v1/accounts/${acme.accountId}/audit-events`)
          .query({ action: 'login.failed', targetId: target.userId })
          .set(bearer(acme.accessToken))
          .expect(200)
      ).body.items as unknown[];
    await eventually('the 5 failures to be audited', async () => (await failures()).length >= 5);
    expect(await failures()).toHaveLength(5);
  });

  it('starts an identifier afresh after a success', async () => {
    const target = 'fresh@acme.test';
    await people.member(acme, target, 'Developer');
    for (let i = 0; i < 4; i += 1) await login(target, WRONG).expect(401);
    await login(target, PASSWORD).expect(200);
    for (let i = 0; i < 4; i += 1) await login(target, WRONG).expect(401);
    await login(target, PASSWORD).expect(200);
  });

  it('answers a wrong password and an unknown e-mail alike (B2)', async () => {
    const wrong = await login(acme.email, WRONG);
    const unknownEmail = await login('never-seen@acme.test', WRONG);
    expect(wrong.status).toBe(401);
    expect({ ...wrong.body, requestId: 0 }).toEqual({ ...unknownEmail.body, requestId: 0 });
  });

  describe('the audit trail (B4)', () => {
    const audit = (query: Record<string, string | number> = {}, token = acme.accessToken) =>
      request(system.url).get(`/v1/accounts/${acme.accountId}/audit-events`).query(query).set(bearer(token));

    it('records sign-in successes and failures with who, on whom, when and from which address, without secrets', async () => {
      const ip = newAddress();
      await login(acme.email, PASSWORD, ip).expect(200);
      await login(acme.email, WRONG, ip).expect(401);
      const events = (await audit({ actorId: acme.userId, action: 'login.succeeded' }).expect(200)).body.items;
      expect(events[0]).toMatchObject({
        action: 'login.succeeded',
        outcome: 'success',
        actor: { type: 'user', id: acme.userId },
        ip,
        occurredAt: expect.any(String),
      });
      const failedOnes = async () => (await audit({ targetId: acme.userId, outcome: 'failure' }).expect(200)).body.items as Array<{ ip: string }>;
      await eventually('the failure to be audited', async () => (await failedOnes())[0]?.ip === ip);
      const failed = await failedOnes();
      expect(failed[0]).toMatchObject({ action: 'login.failed', target: { type: 'user', id: acme.userId }, ip, details: { reason: 'wrong-password' } });
      const everything = JSON.stringify((await audit({ limit: 100 }).expect(200)).body);
      expect(everything).not.toContain(WRONG);
      expect(everything).not.toContain(PASSWORD);
    });

    it('records throttled attempts and changes made by admins', async () => {
      await eventually(
        'a throttled attempt to be audited',
        async () => (await audit({ action: 'login.throttled', targetId: victim.userId }).expect(200)).body.items.length >= 1,
      );
      await request(system.url)
        .patch(`/v1/accounts/${acme.accountId}/users/${victim.userId}`)
        .set(bearer(acme.accessToken))
        .send({ phone: '+447700900555' })
        .expect(200);
      const [change] = (await audit({ action: 'user.updated', targetId: victim.userId }).expect(200)).body.items;
      expect(change).toMatchObject({ actor: { type: 'user', id: acme.userId }, details: { changed: ['phone'] } });
      const invited = (await audit({ action: 'user.invited' }).expect(200)).body.items;
      expect(invited.length).toBeGreaterThanOrEqual(3);
      expect(invited[0].details).toMatchObject({ role: 'Developer' });
    });

    it('filters by time and pages newest first', async () => {
      const all = (await audit({ limit: 100 }).expect(200)).body.items as Array<{ id: string; occurredAt: string }>;
      expect(all.map((event) => event.occurredAt)).toEqual([...all.map((event) => event.occurredAt)].sort().reverse());
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await audit({ limit: 7, ...(cursor ? { cursor } : {}) }).expect(200);
        seen.push(...page.body.items.map((event: { id: string }) => event.id));
        cursor = page.body.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(all.map((event) => event.id));
      const future = new Date(Date.now() + 3600_000).toISOString();
      expect((await audit({ from: future }).expect(200)).body.items).toEqual([]);
      expect((await audit({ to: future, limit: 1 }).expect(200)).body.items).toHaveLength(1);
      await audit({ from: 'yesterday' }).expect(400);
      // ISO 8601 forms that JavaScript cannot read (compact, week dates), and a day that does not exist: 400 naming the field, never 500.
      for (const [field, value] of [
        ['from', '20240101'],
        ['from', '2024-W01'],
        ['to', '20240101T000000Z'],
        ['to', '2026-02-30T10:00:00Z'],
        ['from', '0000-01-01'],
        // A time without its zone would be read in the server's own.
        ['to', '2024-01-01T10:00'],
      ]) {
        const refused = await audit({ [field]: value }).expect(400);
        expect(refused.body.message).toContain(field);
      }
      // Any UUID by its form, as every other door takes it: an unversioned one names nobody here.
      expect((await audit({ actorId: '00000000-0000-0000-0000-000000000001' }).expect(200)).body.items).toEqual([]);
      // A date alone is its midnight UTC: everything so far lies between these two.
      const dayAfterTomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
      expect((await audit({ from: '2000-01-01', to: dayAfterTomorrow, limit: 100 }).expect(200)).body.items).toHaveLength(all.length);
      await audit({ action: 'no.such.action' }).expect(400);
    });

    it('is permission-checked: 403 without audit:read, 404 from another account; denials are logged', async () => {
      const denied = await audit({}, victim.accessToken).expect(403);
      expect(denied.body.code).toBe('FORBIDDEN');
      const other = await people.signUp('other-co');
      await audit({}, other.accessToken).expect(404);
      const denials = () => (system.logs.get('gateway') ?? []).filter((line) => line.includes('"event":"access-denied"'));
      // The gateway's log reaches this process through a pipe of its own, possibly after the answer: wait for it.
      await eventually('the 403 to be logged', () => denials().some((line) => line.includes('"code":"FORBIDDEN"')));
      // The 404 that hides the account from a stranger is a denial too, logged with its reason.
      await eventually('the 404 to be logged as a denial, with its reason', () =>
        denials().some((line) => line.includes('"code":"NOT_FOUND"') && line.includes('"reason":"not-member"') && line.includes(other.userId)),
      );
      expect((system.logs.get('gateway') ?? []).join('\n')).not.toContain(other.accessToken);
    });
  });
});

describe('argon2 work is bounded: past the queue, 503 rather than starvation (L1)', () => {
  const system = new TestSystem({ env: { TRUST_PROXY: 'true', ARGON2_MAX_CONCURRENCY: '1', ARGON2_QUEUE_LIMIT: '2' } });
  const people = new People(system);

  beforeAll(async () => {
    await system.start();
    await people.signUp('flood');
  });
  afterAll(() => system.stop());

  it('answers 503 SERVICE_UNAVAILABLE to logins beyond the queue, none with 500, and serves again afterwards', async () => {
    const responses = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        request(system.url)
          .post('/v1/auth/login')
          .set('x-forwarded-for', `192.0.2.${i + 1}`)
          .send({ email: `flood${i}@flood.test`, password: WRONG }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 401 || status === 503)).toBe(true);
    expect(responses.find((response) => response.status === 503)!.body.code).toBe('SERVICE_UNAVAILABLE');
    await people.login('owner@flood.test');
  });
});
