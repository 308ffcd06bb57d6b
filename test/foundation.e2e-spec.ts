import { connect } from '@nats-io/transport-node';
import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { Subjects } from '#libs/contracts/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestSystem, TEST_WEB_URL } from '#libs/testing/system.js';
import type { CaughtMail } from '#libs/testing/mail-catcher.js';

const system = new TestSystem({ healthPorts: true });
const PASSWORD = 'correct horse battery staple';

function owner(email: string) {
  return { firstName: 'Ada', lastName: 'Lovelace', email, phone: '+447700900123' };
}

function tokenOf(mail: CaughtMail): string {
  const link = mail.links.find((candidate) => candidate.startsWith(`${TEST_WEB_URL}/activate?`));
  if (!link) throw new Error(`No activation link in: ${mail.text}`);
  return new URL(link).searchParams.get('token')!;
}

async function signUp(slug: string, email: string) {
  const created = await request(system.url)
    .post('/v1/accounts')
    .send({ name: `Account ${slug}`, slug, owner: owner(email) })
    .expect(201);
  const mail = await system.mail.waitFor((candidate) => candidate.to.includes(email));
  await request(system.url)
    .post('/v1/auth/activate')
    .send({ token: tokenOf(mail), password: PASSWORD })
    .expect(204);
  const login = await request(system.url).post('/v1/auth/login').send({ email, password: PASSWORD }).expect(200);
  return { accountId: created.body.id as string, accessToken: login.body.accessToken as string, mail };
}

beforeAll(() => system.start());
afterAll(() => system.stop());

describe('the first flow, through HTTP only', () => {
  let accountId: string;
  let token: string;
  let activation: CaughtMail;

  it('creates an account and its owner (201)', async () => {
    const response = await request(system.url)
      .post('/v1/accounts')
      .send({ name: 'Acme Voice', slug: 'acme-voice', owner: owner('ada@acme.test') })
      .expect(201);
    expect(response.body).toMatchObject({ name: 'Acme Voice', slug: 'acme-voice', id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    accountId = response.body.id;
  });

  it('sends the owner an activation mail over SMTP whose link points to PUBLIC_WEB_URL', async () => {
    activation = await system.mail.waitFor((mail) => mail.to.includes('ada@acme.test'));
    expect(activation.subject).toContain('Acme Voice');
    expect(tokenOf(activation).length).toBeGreaterThanOrEqual(22);
  });

  it('stores the activation token only as a hash', async () => {
    const rows = await system.database.query<{ token_hash: string }>('SELECT token_hash FROM identity.action_tokens');
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).not.toContain(tokenOf(activation));
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('activates with the token and a password (204), stored as argon2id', async () => {
    await request(system.url)
      .post('/v1/auth/activate')
      .send({ token: tokenOf(activation), password: PASSWORD })
      .expect(204);
    const [user] = await system.database.query<{ password_hash: string; status: string }>('SELECT password_hash, status FROM identity.users');
    expect(user.status).toBe('active');
    expect(user.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('refuses a second use of the activation token', async () => {
    const response = await request(system.url)
      .post('/v1/auth/activate')
      .send({ token: tokenOf(activation), password: PASSWORD })
      .expect(400);
    expect(response.body.code).toBe('INVALID_TOKEN');
  });

  it('logs in with e-mail and password and returns a Bearer token pair', async () => {
    const response = await request(system.url).post('/v1/auth/login').send({ email: 'Ada@Acme.test', password: PASSWORD }).expect(200);
    expect(response.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, accessToken: expect.any(String), refreshToken: expect.any(String) });
    token = response.body.accessToken as string;
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(header.alg).toBe('ES256');
  });

  it('publishes the verification keys at /.well-known/jwks.json', async () => {
    const response = await request(system.url).get('/.well-known/jwks.json').expect(200);
    const { kid } = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(response.body.keys).toEqual(expect.arrayContaining([expect.objectContaining({ kid, kty: 'EC', crv: 'P-256', alg: 'ES256' })]));
    expect(JSON.stringify(response.body)).not.toContain('"d"');
  });

  it('answers the same 401 for a wrong password and an unknown e-mail', async () => {
    const wrong = await request(system.url).post('/v1/auth/login').send({ email: 'ada@acme.test', password: 'not the password at all' }).expect(401);
    const unknown = await request(system.url).post('/v1/auth/login').send({ email: 'nobody@acme.test', password: 'not the password at all' }).expect(401);
    expect({ ...wrong.body, requestId: undefined }).toEqual({ ...unknown.body, requestId: undefined });
  });

  it('shows the owner their profile and memberships', async () => {
    const response = await request(system.url).get('/v1/me').set('authorization', `Bearer ${token}`).expect(200);
    expect(response.body).toMatchObject({ email: 'ada@acme.test', firstName: 'Ada', phone: '+447700900123' });
    expect(response.body.memberships).toEqual([expect.objectContaining({ accountId, accountName: 'Acme Voice', owner: true })]);
  });

  it('reads the bearer token the same way whether the gateway verified it before or not', async () => {
    // The token is remembered by now (earlier tests used it): a spelling read as it is must find it, any other must not.
    const answers = async (authorization: string) => {
      const statuses = [];
      for (let i = 0; i < 2; i += 1) statuses.push((await request(system.url).get('/v1/me').set('authorization', authorization)).status);
      return statuses;
    };
    expect(await answers(`bearer ${token}`)).toEqual([200, 200]);
    expect(await answers(`BEARER ${token}`)).toEqual([200, 200]);
    expect(await answers(`Bearer ${token} trailing`)).toEqual([200, 200]);
    expect(await answers(`Bearer  ${token}`)).toEqual([200, 200]);
    expect(await answers(`Bearer${token}`)).toEqual([401, 401]);
    expect(await answers(`BearerX${token}`)).toEqual([401, 401]);
    expect(await answers(`Basic ${token}`)).toEqual([401, 401]);
    expect(await answers(`Digest ${token}`)).toEqual([401, 401]);
    expect(await answers(`Bearer ${token.slice(0, -2)}`)).toEqual([401, 401]);
  });

  it('refuses /v1/me without a token (401)', async () => {
    const response = await request(system.url).get('/v1/me').expect(401);
    expect(response.body.code).toBe('UNAUTHENTICATED');
  });

  it('shows the owner their account', async () => {
    const response = await request(system.url).get(`/v1/accounts/${accountId}`).set('authorization', `Bearer ${token}`).expect(200);
    expect(response.body).toMatchObject({ id: accountId, slug: 'acme-voice' });
  });

  it('answers 404 to a user of another account', async () => {
    const other = await signUp('globex', 'hank@globex.test');
    const response = await request(system.url).get(`/v1/accounts/${accountId}`).set('authorization', `Bearer ${other.accessToken}`).expect(404);
    expect(response.body.code).toBe('NOT_FOUND');
    await request(system.url).get(`/v1/accounts/${other.accountId}`).set('authorization', `Bearer ${other.accessToken}`).expect(200);
  });
});

describe('bad input gets a clear 4xx', () => {
  const valid = { name: 'Valid', slug: 'valid-slug', owner: owner('valid@acme.test') };

  it.each([
    ['a slug with capitals', { ...valid, slug: 'Bad-Slug' }, 'slug'],
    ['a slug with spaces', { ...valid, slug: 'bad slug' }, 'slug'],
    ['a phone without the international prefix', { ...valid, owner: { ...valid.owner, phone: '07700900123' } }, 'owner.phone'],
    ['an e-mail that is not one', { ...valid, owner: { ...valid.owner, email: 'nope' } }, 'owner.email'],
    ['a missing owner', { name: 'x', slug: 'xx' }, 'owner'],
    ['a number where text belongs', { ...valid, name: 42 }, 'name'],
    ['an unknown field', { ...valid, plan: 'gold' }, 'plan'],
    ['an unknown nested field', { ...valid, owner: { ...valid.owner, role: 'admin' } }, 'owner.role'],
    ['a field named as a member of every object (class-transformer would drop it unseen)', { ...valid, toString: 1 }, 'toString'],
    ['such a field, nested', { ...valid, owner: { ...valid.owner, constructor: 'x' } }, 'owner.constructor'],
  ])('%s -> 400 naming the field', async (_label, body, field) => {
    const response = await request(system.url).post('/v1/accounts').send(body).expect(400);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', requestId: expect.any(String) });
    expect(response.body.message).toContain(field);
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.js:\d+/);
  });

  it('a taken slug -> 409', async () => {
    await request(system.url)
      .post('/v1/accounts')
      .send({ ...valid, slug: 'taken' })
      .expect(201);
    const response = await request(system.url)
      .post('/v1/accounts')
      .send({ ...valid, slug: 'taken', owner: owner('second@acme.test') })
      .expect(409);
    expect(response.body).toMatchObject({ code: 'CONFLICT', details: { field: 'slug' } });
  });

  it('malformed JSON -> 400', async () => {
    const response = await request(system.url).post('/v1/accounts').set('content-type', 'application/json').send('{"name":').expect(400);
    expect(response.body.code).toBe('MALFORMED_JSON');
  });

  it('a body over the limit -> 413', async () => {
    const response = await request(system.url)
      .post('/v1/accounts')
      .send({ ...valid, name: 'x'.repeat(200_000) })
      .expect(413);
    expect(response.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a NUL character in a body or query field -> 400 naming the field, never 500', async () => {
    const login = await request(system.url).post('/v1/auth/login').send({ email: 'a\u0000b@acme.test', password: PASSWORD }).expect(400);
    expect(login.body).toMatchObject({ code: 'VALIDATION_FAILED', message: 'email: must not contain a NUL character', details: { field: 'email' } });
    const { accountId, accessToken } = await signUp('nul-check', 'nul@acme.test');
    const search = await request(system.url).get(`/v1/accounts/${accountId}/users?search=abc%00`).set('authorization', `Bearer ${accessToken}`).expect(400);
    expect(search.body.message).toBe('search: must not contain a NUL character');
  });

  it('a body nested deeper than 32 levels -> 400, never a stack overflow', async () => {
    const deep = `{"email":"a@acme.test","password":"xxxxxxxxxxxxxxx","x":${'['.repeat(1500)}${']'.repeat(1500)}}`;
    const response = await request(system.url).post('/v1/auth/login').set('content-type', 'application/json').send(deep).expect(400);
    expect(response.body.message).toMatch(/nests deeper than 32 levels/);
  });

  it('a body that is not JSON -> 415, not silently ignored; a +json media type is read', async () => {
    const { accessToken } = await signUp('media-type', 'media@acme.test');
    const asText = await request(system.url)
      .patch('/v1/me')
      .set('authorization', `Bearer ${accessToken}`)
      .set('content-type', 'text/plain')
      .send('{"firstName":"Changed"}')
      .expect(415);
    expect(asText.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const unlabelled = await unlabelledPatch(`${system.url}/v1/me`, accessToken, '{"firstName":"Changed"}');
    expect(unlabelled).toBe(415);
    // A route that takes no body ignores one, whatever its type (as it always did).
    await request(system.url)
      .delete('/v1/me/sessions')
      .set('authorization', `Bearer ${accessToken}`)
      .set('content-type', 'application/x-www-form-urlencoded')
      .send('{}')
      .expect(200);
    await request(system.url)
      .patch('/v1/me')
      .set('authorization', `Bearer ${accessToken}`)
      .set('content-type', 'application/merge-patch+json')
      .send('{"firstName":"Merged"}')
      .expect(200);
    expect((await request(system.url).get('/v1/me').set('authorization', `Bearer ${accessToken}`).expect(200)).body.firstName).toBe('Merged');
  });

  it('a list where an object is expected -> 400, never 500', async () => {
    for (const owner of [[], [{ firstName: 'A', lastName: 'B', email: 'list@acme.test', phone: '+447700900123' }]]) {
      const response = await request(system.url).post('/v1/accounts').send({ name: 'Listed', slug: 'listed', owner }).expect(400);
      expect(response.body.message).toContain('owner');
    }
    const { accountId, accessToken } = await signUp('nested-list', 'nested@acme.test');
    await request(system.url)
      .post(`/v1/accounts/${accountId}/roles`)
      .set('authorization', `Bearer ${accessToken}`)
      .send({ name: 'r1', grants: [[]] })
      .expect(400);
  });

  it('answers are never cached: tokens and personal data carry Cache-Control: no-store', async () => {
    const { accountId, accessToken } = await signUp('no-store', 'nostore@acme.test');
    const login = await request(system.url).post('/v1/auth/login').send({ email: 'nostore@acme.test', password: PASSWORD }).expect(200);
    expect(login.headers['cache-control']).toBe('no-store');
    const users = await request(system.url).get(`/v1/accounts/${accountId}/users`).set('authorization', `Bearer ${accessToken}`).expect(200);
    expect(users.headers['cache-control']).toBe('no-store');
  });

  it("every answer, errors included, carries helmet's security headers", async () => {
    for (const answer of [await request(system.url).get('/health/live').expect(200), await request(system.url).get('/v1/no-such-route').expect(404)]) {
      expect(answer.headers).toMatchObject({
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'cross-origin-resource-policy': 'same-origin',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      });
      expect(answer.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('an account id in capitals names the same account', async () => {
    const { accountId, accessToken } = await signUp('capitals', 'capitals@acme.test');
    await request(system.url).get(`/v1/accounts/${accountId.toUpperCase()}/users`).set('authorization', `Bearer ${accessToken}`).expect(200);
  });

  it('a bad activation token -> 400', async () => {
    const response = await request(system.url).post('/v1/auth/activate').send({ token: 'not-a-real-token-at-all', password: PASSWORD }).expect(400);
    expect(response.body.code).toBe('INVALID_TOKEN');
  });

  it('a garbage bearer token -> 401', async () => {
    await request(system.url).get('/v1/me').set('authorization', 'Bearer abc.def.ghi').expect(401);
  });

  it('a non-UUID account id -> 404', async () => {
    const { accessToken } = await signUp('uuid-check', 'uuid@acme.test');
    await request(system.url).get('/v1/accounts/not-a-uuid').set('authorization', `Bearer ${accessToken}`).expect(404);
  });

  it('an unknown route -> 404 with the error body', async () => {
    const response = await request(system.url).get('/v1/nothing-here').expect(404);
    expect(response.body).toMatchObject({ code: 'ROUTE_NOT_FOUND', requestId: expect.any(String) });
  });

  it('returns the caller-given request id in the header and the error body', async () => {
    const response = await request(system.url).get('/v1/me').set('x-request-id', 'trace-abc-123').expect(401);
    expect(response.headers['x-request-id']).toBe('trace-abc-123');
    expect(response.body.requestId).toBe('trace-abc-123');
  });

  it('passes the request id on to the services with every message it sends for the request', async () => {
    const { accountId, accessToken } = await signUp('trace', 'trace@acme.test');
    const listener = await connect({ servers: system.nats.url });
    const seen: Record<string, Array<string | undefined>> = {};
    // Plain subscriptions get a copy of every message besides the services' queue groups.
    for (const subject of [Subjects.AuthLogin, Subjects.AccessCheck, Subjects.UsersList, Subjects.AccessBindingsOfPrincipals]) {
      listener.subscribe(subject, {
        callback: (_error, message) => {
          (seen[subject] ??= []).push(message.headers?.get('x-request-id'));
        },
      });
    }
    await listener.flush();
    try {
      await request(system.url)
        .post('/v1/auth/login')
        .set('x-request-id', 'trace-login-7')
        .send({ email: 'nobody@nowhere.test', password: PASSWORD })
        .expect(401);
      const generated = await request(system.url).post('/v1/auth/login').send({ email: 'nobody@nowhere.test', password: PASSWORD }).expect(401);
      // Authenticated: the guard asks access, the user table asks identity, then access for the roles.
      await request(system.url)
        .get(`/v1/accounts/${accountId}/users`)
        .set('authorization', `Bearer ${accessToken}`)
        .set('x-request-id', 'trace-users-8')
        .expect(200);
      await listener.flush();
      expect(seen).toEqual({
        [Subjects.AuthLogin]: ['trace-login-7', generated.headers['x-request-id']],
        [Subjects.AccessCheck]: ['trace-users-8'],
        [Subjects.UsersList]: ['trace-users-8'],
        [Subjects.AccessBindingsOfPrincipals]: ['trace-users-8'],
      });
    } finally {
      await listener.close();
    }
  });
});

describe('operations', () => {
  it('serves liveness, readiness, the OpenAPI description, and metrics on a port of their own', async () => {
    await request(system.url).get('/health/live').expect(200);
    expect((await request(system.url).get('/health/ready').expect(200)).body).toEqual({ ready: true });
    const ready = await request(system.url).get('/health/system').expect(200);
    expect(ready.body.services).toMatchObject({ identity: { ready: true }, access: { ready: true }, notifications: { ready: true } });
    const metrics = await fetch(system.metricsUrl);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('portico_http_request_duration_seconds');
    // Not on the API port, which the Ingress exposes; nothing but GET /metrics on the metrics port.
    await request(system.url).get('/metrics').expect(404);
    expect((await fetch(system.metricsUrl.replace('/metrics', '/health/ready'))).status).toBe(404);
    expect((await fetch(system.metricsUrl.replace('/metrics', '/health/system'))).status).toBe(404);
    const openapi = await request(system.url).get('/openapi.json').expect(200);
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/v1/accounts', '/v1/auth/login', '/v1/me']));
    // Each operation says its error answers, and a permission route the permission it needs.
    const operations = Object.values(openapi.body.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>).flatMap((path) =>
      Object.values(path),
    );
    expect(operations.filter((operation) => !operation.responses.default)).toEqual([]);
    const addUser = openapi.body.paths['/v1/accounts/{accountId}/users'].post;
    expect(addUser).toMatchObject({ 'x-portico-permission': 'members:write', responses: { '401': {}, '403': {}, '404': {} } });
    expect(addUser.responses['403'].description).toContain('members:write');
    expect(openapi.body.components.schemas.ErrorView.required).toEqual(expect.arrayContaining(['code', 'message', 'requestId']));
    await request(system.url).get('/docs').expect(200);
  });

  /** A service's metrics, as Prometheus scrapes them from its HEALTH_PORT. */
  async function scrape(service: 'identity' | 'access' | 'notifications'): Promise<string> {
    const answer = await fetch(`${system.healthUrl(service)}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
    return answer.text();
  }

  /** The value of one series in a scrape (`name{labels}`, labels as Prometheus writes them). */
  function valueOf(text: string, series: string): number {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    if (!line) throw new Error(`no ${series} in:\n${text}`);
    return Number(line.slice(series.length + 1));
  }

  it("serves each service's metrics on its health port: sign-ins, argon2, the outbox, mails", async () => {
    const identity = await scrape('identity');
    // The first flow signed in once, then was refused a wrong password and an unknown e-mail.
    expect(valueOf(identity, 'portico_sign_ins_total{outcome="succeeded"}')).toBeGreaterThanOrEqual(1);
    expect(valueOf(identity, 'portico_sign_ins_total{outcome="wrong-password"}')).toBeGreaterThanOrEqual(1);
    expect(valueOf(identity, 'portico_sign_ins_total{outcome="unknown-login"}')).toBeGreaterThanOrEqual(1);
    expect(valueOf(identity, 'portico_password_hashing_jobs{state="waiting"}')).toBe(0);
    expect(valueOf(identity, 'portico_outbox_published_total')).toBeGreaterThanOrEqual(1);
    expect(valueOf(identity, 'portico_outbox_events{state="set_aside"}')).toBe(0);
    expect(identity).toContain('process_resident_memory_bytes');
    const notifications = await scrape('notifications');
    expect(valueOf(notifications, 'portico_mail_attempts_total{template="activation",outcome="sent"}')).toBeGreaterThanOrEqual(1);
    // Every mail of the flows above goes out (the taken-slug test's too, which nobody waited for).
    await eventually('no mail under way', async () => {
      const now = await scrape('notifications');
      return valueOf(now, 'portico_mail_unfinished{status="pending"}') + valueOf(now, 'portico_mail_unfinished{status="sending"}') === 0;
    });
    expect(valueOf(await scrape('notifications'), 'portico_mail_overdue_seconds')).toBe(0);
    const access = await scrape('access');
    expect(valueOf(access, 'portico_outbox_events{state="waiting"}')).toBeGreaterThanOrEqual(0);
    expect(valueOf(access, 'portico_outbox_oldest_waiting_seconds')).toBeGreaterThanOrEqual(0);
    expect(valueOf(access, 'portico_access_loaded{kind="accounts"}')).toBeGreaterThanOrEqual(1);
    expect(valueOf(access, 'portico_access_stale_accounts')).toBe(0);
    // The probes are where they were; anything else is a 404.
    expect((await fetch(`${system.healthUrl('identity')}/health/ready`)).status).toBe(200);
    expect((await fetch(`${system.healthUrl('identity')}/nothing`)).status).toBe(404);
  });
});

/** A PATCH whose JSON body carries no content-type at all (clients cannot send one through supertest); its status. */
function unlabelledPatch(url: string, accessToken: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const patch = httpRequest(
      url,
      { method: 'PATCH', headers: { authorization: `Bearer ${accessToken}`, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    patch.on('error', reject);
    patch.end(body);
  });
}
