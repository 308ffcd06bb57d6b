import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { exportJWK, SignJWT } from 'jose';
import request from 'supertest';
import { Subjects } from '#libs/contracts/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestNatsRequester } from '#libs/testing/nats-rpc.js';
import { freePort } from '#libs/testing/nats-server.js';
import { TestSystem } from '#libs/testing/system.js';
import { MAX_USER_AGENT_LENGTH } from '#libs/platform/index.js';
import { bearer, PASSWORD, People, type SignedIn } from './helpers/people.js';

// Gateways fetch the token keys every second here, so that a key retired in the database is refused within the test.
const system = new TestSystem({ env: { JWT_KEYS_REFRESH_MS: '1000' } });
const people = new People(system);
let acme: SignedIn;
let secondGateway: string;
let secondPort: number;

beforeAll(async () => {
  await system.start();
  acme = await people.signUp('acme');
  secondPort = await freePort();
  secondGateway = await system.startGateway('gateway#2', secondPort);
});
afterAll(() => system.stop());

/** Asks both gateway replicas for /v1/me with this token; returns both statuses. */
async function bothReplicas(accessToken: string): Promise<number[]> {
  const first = await request(system.url).get('/v1/me').set(bearer(accessToken));
  const second = await request(secondGateway).get('/v1/me').set(bearer(accessToken));
  return [first.status, second.status];
}

describe('refresh tokens rotate; re-use ends the session (S1)', () => {
  it('rotates on every use, and a re-used old token ends the whole session at once', async () => {
    const user = await people.member(acme, 'rotor@acme.test', 'Developer');
    const first = await people.http.post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    const second = await people.http.post('/v1/auth/refresh').send({ refreshToken: first.body.refreshToken }).expect(200);
    expect(new Set([user.refreshToken, first.body.refreshToken, second.body.refreshToken]).size).toBe(3);
    expect(await bothReplicas(second.body.accessToken)).toEqual([200, 200]);
    const replay = await people.http.post('/v1/auth/refresh').send({ refreshToken: first.body.refreshToken }).expect(401);
    expect(replay.body.code).toBe('UNAUTHENTICATED');
    await people.http.post('/v1/auth/refresh').send({ refreshToken: second.body.refreshToken }).expect(401);
    expect(await bothReplicas(second.body.accessToken)).toEqual([401, 401]);
    const audit = await people.http
      .get(`/v1/accounts/${acme.accountId}/audit-events`)
      .query({ action: 'session.refresh-reused', targetId: user.userId })
      .set(bearer(acme.accessToken))
      .expect(200);
    expect(audit.body.items).toHaveLength(1);
  });

  it('refuses a made-up refresh token', async () => {
    await people.http
      .post('/v1/auth/refresh')
      .send({ refreshToken: 'x'.repeat(43) })
      .expect(401);
  });
});

describe('logout (S2)', () => {
  it('revokes the refresh token and the access tokens of the session on every replica', async () => {
    const session = await people.login(acme.email);
    await people.http.post('/v1/auth/logout').send({ refreshToken: session.refreshToken }).expect(204);
    await people.http.post('/v1/auth/refresh').send({ refreshToken: session.refreshToken }).expect(401);
    expect(await bothReplicas(session.accessToken)).toEqual([401, 401]);
    await people.http.post('/v1/auth/logout').send({ refreshToken: session.refreshToken }).expect(204);
  });

  it('with a refresh token someone else already rotated, ends the session they continued (a re-used old token, audited)', async () => {
    const victim = await people.member(acme, 'stolen@acme.test', 'Developer');
    const attacker = await people.http.post('/v1/auth/refresh').send({ refreshToken: victim.refreshToken }).expect(200);
    expect(await bothReplicas(attacker.body.accessToken)).toEqual([200, 200]);
    await people.http.post('/v1/auth/logout').send({ refreshToken: victim.refreshToken }).expect(204);
    await people.http.post('/v1/auth/refresh').send({ refreshToken: attacker.body.refreshToken }).expect(401);
    expect(await bothReplicas(attacker.body.accessToken)).toEqual([401, 401]);
    const audit = await people.http
      .get(`/v1/accounts/${acme.accountId}/audit-events`)
      .query({ action: 'session.refresh-reused', targetId: victim.userId })
      .set(bearer(acme.accessToken))
      .expect(200);
    expect(audit.body.items).toHaveLength(1);
    // Logging out with it again changes nothing and still answers 204.
    await people.http.post('/v1/auth/logout').send({ refreshToken: victim.refreshToken }).expect(204);
  });
});

describe('ended sessions are refused by every gateway at once (S3, S4)', () => {
  let user: SignedIn;

  beforeAll(async () => {
    user = await people.member(acme, 'ended@acme.test', 'Developer');
  });

  it('an admin ends all sessions of a person: both replicas refuse the unexpired access token', async () => {
    const other = await people.login('ended@acme.test');
    expect(await bothReplicas(user.accessToken)).toEqual([200, 200]);
    const response = await people.http.delete(`/v1/accounts/${acme.accountId}/users/${user.userId}/sessions`).set(bearer(acme.accessToken)).expect(200);
    expect(response.body).toEqual({ ended: 2 });
    expect(await bothReplicas(user.accessToken)).toEqual([401, 401]);
    expect(await bothReplicas(other.accessToken)).toEqual([401, 401]);
  });

  it('a replica started after the revocation learns it from identity', async () => {
    const session = await people.login('ended@acme.test');
    await system.stopService('gateway#2');
    await people.http.delete(`/v1/accounts/${acme.accountId}/users/${user.userId}/sessions`).set(bearer(acme.accessToken)).expect(200);
    await system.startGateway('gateway#2', secondPort);
    expect(await bothReplicas(session.accessToken)).toEqual([401, 401]);
  });

  it('a person lists their sessions and ends one, or all the others', async () => {
    const a = await people.login('ended@acme.test');
    const b = await people.login('ended@acme.test');
    const c = await people.login('ended@acme.test');
    const listed = await people.http.get('/v1/me/sessions').set(bearer(a.accessToken)).expect(200);
    expect(listed.body).toHaveLength(3);
    expect(listed.body.filter((session: { current: boolean }) => session.current)).toHaveLength(1);
    expect(listed.body[0]).toMatchObject({ id: expect.any(String), createdAt: expect.any(String), expiresAt: expect.any(String), ip: expect.any(String) });
    expect(JSON.stringify(listed.body)).not.toMatch(/refresh|hash/i);
    const current = listed.body.find((session: { current: boolean }) => session.current).id;
    const others = listed.body.filter((session: { id: string }) => session.id !== current).map((session: { id: string }) => session.id);
    await people.http.delete(`/v1/me/sessions/${others[0]}`).set(bearer(a.accessToken)).expect(204);
    expect((await bothReplicas(a.accessToken))[0]).toBe(200);
    const remaining = await people.http.get('/v1/me/sessions').set(bearer(a.accessToken)).expect(200);
    expect(remaining.body).toHaveLength(2);
    const ended = await people.http.delete('/v1/me/sessions').set(bearer(a.accessToken)).expect(200);
    expect(ended.body).toEqual({ ended: 1 });
    expect(await bothReplicas(a.accessToken)).toEqual([200, 200]);
    expect([...(await bothReplicas(b.accessToken)), ...(await bothReplicas(c.accessToken))]).toEqual([401, 401, 401, 401]);
  });

  it("answers 404 for someone else's session", async () => {
    const mine = await people.login('ended@acme.test');
    const theirs = await people.http.get('/v1/me/sessions').set(bearer(acme.accessToken)).expect(200);
    await people.http.delete(`/v1/me/sessions/${theirs.body[0].id}`).set(bearer(mine.accessToken)).expect(404);
    await people.http.get('/v1/me').set(bearer(acme.accessToken)).expect(200);
  });
});

describe('the gate state, asked by any NATS caller (L3)', () => {
  const ID = randomUUID();
  let nats: TestNatsRequester;

  beforeAll(async () => {
    nats = await TestNatsRequester.open(system.nats.url);
  });
  afterAll(() => nats.close());

  it('continues the suspended principals after an account id and a principal id joined by a colon', async () => {
    const reply = await nats.send(Subjects.SessionsGateState, { suspendedAfter: `${ID}:${ID.toUpperCase()}` });
    expect(reply.err).toBeUndefined();
    expect(reply.response).toMatchObject({ suspended: expect.any(Array) });
  });

  it.each([
    ['73 characters that are not two ids', 'x'.repeat(73)],
    ['an account id, then something else', `${ID}:${'x'.repeat(36)}`],
    ['something else, then a principal id', `${'x'.repeat(36)}:${ID}`],
    ['two ids joined by something else', `${ID};${ID}`],
  ])('refuses a suspendedAfter of %s with 400 VALIDATION_FAILED naming the field (PostgreSQL never sees it)', async (_label, suspendedAfter) => {
    const reply = await nats.send(Subjects.SessionsGateState, { suspendedAfter });
    expect(reply.err).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('suspendedAfter must be two UUIDs') as string });
  });
});

describe('each session says which client opened it', () => {
  const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
  type Listed = { current: boolean; userAgent: string | null; device: string | null };
  const currentSession = async (accessToken: string): Promise<Listed> =>
    ((await people.http.get('/v1/me/sessions').set(bearer(accessToken)).expect(200)).body as Listed[]).find((session) => session.current)!;
  const signIn = (userAgent: string) =>
    people.http.post('/v1/auth/login').set('User-Agent', userAgent).send({ email: acme.email, password: PASSWORD }).expect(200);

  it('lists the User-Agent of the sign-in and what it names, then those of the last refresh, and audits the sign-in with it', async () => {
    const signedIn = await signIn(FIREFOX);
    expect(await currentSession(signedIn.body.accessToken)).toMatchObject({ userAgent: FIREFOX, device: 'Firefox 133 on Linux' });
    const refreshed = await people.http.post('/v1/auth/refresh').set('User-Agent', 'curl/8.5.0').send({ refreshToken: signedIn.body.refreshToken }).expect(200);
    expect(await currentSession(refreshed.body.accessToken)).toMatchObject({ userAgent: 'curl/8.5.0', device: 'curl 8.5' });
    // A refresh that sends none keeps the one before.
    const again = await people.http.post('/v1/auth/refresh').send({ refreshToken: refreshed.body.refreshToken }).expect(200);
    expect(await currentSession(again.body.accessToken)).toMatchObject({ userAgent: 'curl/8.5.0', device: 'curl 8.5' });
    const audited = await people.http.get(`/v1/accounts/${acme.accountId}/audit-events?action=login.succeeded`).set(bearer(acme.accessToken)).expect(200);
    expect(audited.body.items[0].details).toEqual({ userAgent: FIREFOX });
  });

  it('signs in with a User-Agent longer than it keeps, and keeps its beginning', async () => {
    const long = `Mozilla/5.0 (Windows NT 10.0) ${'x'.repeat(MAX_USER_AGENT_LENGTH * 3)}`;
    const signedIn = await signIn(long);
    const listed = await currentSession(signedIn.body.accessToken);
    expect(listed).toMatchObject({ userAgent: long.slice(0, MAX_USER_AGENT_LENGTH), device: 'Windows' });
  });
});

describe('forged and misused access tokens are refused with 401 (J1, J2)', () => {
  let good: string;
  let realKey: { kid: string; pem: string };
  let claims: { sub: string; pty: string; sid: string; typ: string };

  beforeAll(async () => {
    const session = await people.login(acme.email);
    good = session.accessToken;
    const [row] = await system.database.query<{ kid: string; private_pem: string }>('SELECT kid, private_pem FROM identity.signing_keys LIMIT 1');
    realKey = { kid: row.kid, pem: row.private_pem };
    const payload = JSON.parse(Buffer.from(good.split('.')[1], 'base64url').toString()) as typeof claims;
    claims = { sub: payload.sub, pty: payload.pty, sid: payload.sid, typ: payload.typ };
  });

  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

  /** A token as identity makes them, signed with the real key unless given another (`key`), and changed as `options` say. */
  function signed(
    options: {
      header?: Record<string, unknown>;
      claims?: Record<string, unknown>;
      iss?: string;
      aud?: string;
      exp?: number;
      key?: { kid: string; privateKey: KeyObject };
    } = {},
  ) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...claims, ...options.claims })
      .setProtectedHeader({ alg: 'ES256', kid: options.key?.kid ?? realKey.kid, typ: 'at+jwt', ...options.header })
      .setSubject(acme.userId)
      .setIssuer(options.iss ?? 'portico')
      .setAudience(options.aud ?? 'portico-api')
      .setIssuedAt(now - 10)
      .setExpirationTime(options.exp ?? now + 300)
      .sign(options.key?.privateKey ?? createPrivateKey(realKey.pem));
  }

  it('accepts a token signed with the real key (the forgeries below differ only in what they test)', async () => {
    await people.http
      .get('/v1/me')
      .set(bearer(await signed()))
      .expect(200);
    await people.http.get('/v1/me').set(bearer(good)).expect(200);
  });

  it('refuses a token it has accepted before once that token expires (verified tokens are remembered, their expiry is not)', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const token = await signed({ exp: expiresAt });
    await people.http.get('/v1/me').set(bearer(token)).expect(200);
    await people.http.get('/v1/me').set(bearer(token)).expect(200);
    await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 - Date.now() + 200));
    const response = await people.http.get('/v1/me').set(bearer(token)).expect(401);
    expect(response.body.code).toBe('UNAUTHENTICATED');
  });

  it.each([
    ['unsigned (alg none)', () => Promise.resolve(`${b64({ alg: 'none', typ: 'JWT' })}.${good.split('.')[1]}.`)],
    ['badly signed', () => Promise.resolve(good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA'))],
    [
      'HS256 with the public key as the secret',
      async () => {
        const jwks = (await people.http.get('/.well-known/jwks.json').expect(200)).body as { keys: object[] };
        const header = b64({ alg: 'HS256', kid: realKey.kid, typ: 'JWT' });
        const body = good.split('.')[1];
        const secret = createPublicKey({ key: jwks.keys[0] as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
        return `${header}.${body}.${createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url')}`;
      },
    ],
    ['expired', () => signed({ exp: Math.floor(Date.now() / 1000) - 5 })],
    ['for another audience', () => signed({ aud: 'someone-else' })],
    ['from another issuer', () => signed({ iss: 'evil' })],
    ['not marked as an access token', () => signed({ claims: { typ: 'refresh' } })],
    ['with a session id that is not one', () => signed({ claims: { sid: 'nope' } })],
  ])('refuses a token %s', async (_label, make) => {
    const response = await people.http
      .get('/v1/me')
      .set(bearer(await make()))
      .expect(401);
    expect(response.body.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a refresh token used as an access token', async () => {
    const session = await people.login(acme.email);
    await people.http.get('/v1/me').set(bearer(session.refreshToken)).expect(401);
  });

  it.each(['jwk', 'jku', 'x5u'])("ignores a %s header pointing at the forger's key (keys come only from the key set)", async (header) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = await exportJWK(publicKey);
    const headers: Record<string, unknown> = { jwk: { ...jwk, kid: realKey.kid }, jku: 'http://127.0.0.1:1/jwks.json', x5u: 'http://127.0.0.1:1/cert.pem' };
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: realKey.kid, [header]: headers[header] })
      .setSubject(acme.userId)
      .setIssuer('portico')
      .setAudience('portico-api')
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(privateKey);
    await people.http.get('/v1/me').set(bearer(forged)).expect(401);
    const unknownKid = await new SignJWT({ ...claims, sid: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'forger', [header]: headers[header] })
      .setSubject(acme.userId)
      .setIssuer('portico')
      .setAudience('portico-api')
      .setExpirationTime(now + 300)
      .sign(privateKey);
    await people.http.get('/v1/me').set(bearer(unknownKid)).expect(401);
  });

  it('refuses, on every gateway and without a restart, tokens of a key marked retired in the database, also tokens accepted before (J2)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = `retired-${randomUUID()}`;
    await system.database.query('INSERT INTO identity.signing_keys (kid, private_pem, public_jwk) VALUES ($1, $2, $3)', [
      kid,
      privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }),
    ]);
    const token = await signed({ key: { kid, privateKey } });
    // The gateways of this file fetch the key set every second (JWT_KEYS_REFRESH_MS), and for an unknown key at most every 5 s.
    await eventually('both gateways to accept the new key', async () => (await bothReplicas(token)).every((status) => status === 200), 10_000);
    await system.database.query('UPDATE identity.signing_keys SET retired_at = now() WHERE kid = $1', [kid]);
    await eventually('both gateways to refuse the retired key', async () => (await bothReplicas(token)).every((status) => status === 401), 10_000);
    expect(await bothReplicas(good)).toEqual([200, 200]);
  });
});
