import { randomUUID } from 'node:crypto';
import { TestNatsRequester } from '#libs/testing/nats-rpc.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, linkToken, People, PASSWORD, type SignedIn } from './helpers/people.js';

/**
 * Tenants and what answers carry (docs/SECURITY.md, A2-A4, A7, L1), walked over the routes the
 * OpenAPI description lists, so a route added later is walked too.
 */

const system = new TestSystem();
const people = new People(system);
let nats: TestNatsRequester;

/** An account with one of everything an id can name: a member, a pending invitation, a subuser, a service account and its key, a custom role, an application. */
interface Populated extends SignedIn {
  memberId: string;
  member: SignedIn;
  pendingId: string;
  subuserId: string;
  serviceAccountId: string;
  keyId: string;
  keySecret: string;
  roleId: string;
  applicationId: string;
}

async function populate(slug: string): Promise<Populated> {
  const owner = await people.signUp(slug);
  const as = bearer(owner.accessToken);
  const member = await people.member(owner, `dev@${slug}.test`, 'Developer');
  const pendingId = await people.invite(owner, { email: `pending@${slug}.test`, role: 'Support' });
  const subuser = await people.http
    .post(`/v1/accounts/${owner.accountId}/subusers`)
    .set(as)
    .send({ login: 'desk', password: PASSWORD, roles: ['Support'], description: 'the desk' })
    .expect(201);
  const role = await people.http
    .post(`/v1/accounts/${owner.accountId}/roles`)
    .set(as)
    .send({ name: 'Readers', grants: [{ section: 'scenarios', actions: ['read'] }] })
    .expect(201);
  const application = await people.http.post(`/v1/accounts/${owner.accountId}/applications`).set(as).send({ name: 'Line' }).expect(201);
  const serviceAccounts = `/v1/accounts/${owner.accountId}/service-accounts`;
  const serviceAccount = await people.http
    .post(serviceAccounts)
    .set(as)
    .send({ name: 'robot', roles: ['Developer'] })
    .expect(201);
  const key = await people.http.post(`${serviceAccounts}/${serviceAccount.body.id}/keys`).set(as).send({}).expect(201);
  return {
    ...owner,
    member,
    memberId: member.userId,
    pendingId,
    subuserId: subuser.body.id as string,
    serviceAccountId: serviceAccount.body.id as string,
    keyId: key.body.id as string,
    keySecret: key.body.secret as string,
    roleId: role.body.id as string,
    applicationId: application.body.id as string,
  };
}

/** The value of each path parameter in `account`. */
function idsOf(account: Populated): Record<string, string> {
  return {
    accountId: account.accountId,
    userId: account.memberId,
    subuserId: account.subuserId,
    serviceAccountId: account.serviceAccountId,
    keyId: account.keyId,
    roleId: account.roleId,
    applicationId: account.applicationId,
  };
}

interface Operation {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
}

/** Every operation of the OpenAPI description. */
async function operations(): Promise<Operation[]> {
  const openapi = await people.http.get('/openapi.json').expect(200);
  return Object.entries(openapi.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => ['get', 'post', 'patch', 'put', 'delete'].includes(method))
      .map((method) => ({ method: method as Operation['method'], path })),
  );
}

/** `path` with each `{name}` replaced by `ids[name]` (a random UUID for a name it lacks, such as a session). */
function fill(path: string, ids: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_all, name: string) => ids[name] ?? randomUUID());
}

const label = (operation: Operation) => `${operation.method.toUpperCase()} ${operation.path}`;

let acme: Populated;
let globex: Populated;

beforeAll(async () => {
  await system.start();
  nats = await TestNatsRequester.open(system.nats.url);
  acme = await populate('acme');
  globex = await populate('globex');
});
afterAll(async () => {
  await nats?.close();
  await system.stop();
});

describe('another account is out of sight (A2)', () => {
  it('answers 404 on every route of an account to the owner of another, whatever the method and ids (walked from the OpenAPI description)', async () => {
    const walked = (await operations()).filter((operation) => operation.path.includes('{accountId}'));
    expect(walked.length).toBeGreaterThan(20);
    const answers: string[] = [];
    for (const operation of walked) {
      const response = await people.http[operation.method](fill(operation.path, idsOf(globex)))
        .set(bearer(acme.accessToken))
        .send({});
      answers.push(`${label(operation)} -> ${response.status} ${response.body.code}`);
    }
    expect(answers).toEqual(walked.map((operation) => `${label(operation)} -> 404 NOT_FOUND`));
    await expectIntact(globex);
  });
});

/**
 * A valid body for each route that takes one and an id in its path: without it the route would
 * answer 400 before its service looked the id up. A route missing here fails the walk below.
 */
const BODIES: Record<string, object> = {
  'PATCH /v1/accounts/{accountId}/users/{userId}': { firstName: 'Taken', role: 'Admin', active: false },
  'PATCH /v1/accounts/{accountId}/subusers/{subuserId}': { description: 'taken', roles: ['Admin'], active: false },
  'PATCH /v1/accounts/{accountId}/service-accounts/{serviceAccountId}': { name: 'taken', roles: ['Admin'], active: false },
  'PATCH /v1/accounts/{accountId}/roles/{roleId}': { name: 'Taken', grants: [] },
  'PATCH /v1/accounts/{accountId}/applications/{applicationId}': { name: 'Taken' },
};

describe('every query is scoped by account, below the gateway (A4)', () => {
  it("answers 404 on every route naming an object of another account in the caller's own account, and changes nothing there", async () => {
    // The gateway lets these through (acme's owner may do anything in acme): the 404 comes from the
    // service that owns the object, whose query is scoped by the account of the route.
    const walked = (await operations()).filter((operation) => /\{accountId\}.*\{\w+\}/.test(operation.path));
    expect(walked.length).toBeGreaterThan(15);
    const ids = { ...idsOf(globex), accountId: acme.accountId };
    const answers: string[] = [];
    for (const operation of walked) {
      const response = await people.http[operation.method](fill(operation.path, ids))
        .set(bearer(acme.accessToken))
        .send(BODIES[label(operation)] ?? {});
      answers.push(`${label(operation)} -> ${response.status} ${response.body.code}`);
    }
    expect(answers).toEqual(walked.map((operation) => `${label(operation)} -> 404 NOT_FOUND`));
    // Ids in the body and the query are scoped alike.
    const owner = await people.http
      .post(`/v1/accounts/${acme.accountId}/owner`)
      .set(bearer(acme.accessToken))
      .send({ userId: globex.memberId, previousOwnerRole: 'Admin' });
    expect(owner.status).toBe(404);
    await people.http.get(`/v1/accounts/${acme.accountId}/permissions?applicationId=${globex.applicationId}`).set(bearer(acme.accessToken)).expect(404);
    await people.http
      .delete(`/v1/me/sessions/${await sessionIdOf(globex.member)}`)
      .set(bearer(acme.accessToken))
      .expect(404);
    await expectIntact(globex);
    // Nothing was bound in acme to globex's people by the role edits the walk tried.
    const bindings = await nats.send('access.bindings.of-principals', {
      accountId: acme.accountId,
      principals: [
        { type: 'user', id: globex.memberId },
        { type: 'subuser', id: globex.subuserId },
        { type: 'service-account', id: globex.serviceAccountId },
      ],
    });
    expect(Object.values(bindings.response as Record<string, unknown[]>).flat()).toEqual([]);
  });
});

/** Checks that globex's objects are as populate() left them and its people still signed in. */
async function expectIntact(account: Populated): Promise<void> {
  const as = bearer(account.accessToken);
  const base = `/v1/accounts/${account.accountId}`;
  expect((await people.http.get(`${base}/users/${account.memberId}`).set(as).expect(200)).body).toMatchObject({ firstName: 'Test', roles: ['Developer'] });
  await people.http.get(`${base}/users/${account.pendingId}`).set(as).expect(200);
  expect((await people.http.get(`${base}/subusers/${account.subuserId}`).set(as).expect(200)).body).toMatchObject({
    description: 'the desk',
    active: true,
  });
  expect((await people.http.get(`${base}/service-accounts/${account.serviceAccountId}`).set(as).expect(200)).body).toMatchObject({
    name: 'robot',
    roles: ['Developer'],
    active: true,
  });
  const keys = (await people.http.get(`${base}/service-accounts/${account.serviceAccountId}/keys`).set(as).expect(200)).body as Array<{ id: string }>;
  expect(keys.map((key) => key.id)).toEqual([account.keyId]);
  const roles = (await people.http.get(`${base}/roles`).set(as).expect(200)).body as Array<{ id: string; name: string; grants: unknown[] }>;
  expect(roles.find((role) => role.id === account.roleId)).toMatchObject({ name: 'Readers', grants: [{ section: 'scenarios', actions: ['read'] }] });
  const applications = ((await people.http.get(`${base}/applications`).set(as).expect(200)).body as { items: Array<{ id: string; name: string }> }).items;
  expect(applications.find((application) => application.id === account.applicationId)?.name).toBe('Line');
  await people.http.get('/v1/me').set(bearer(account.member.accessToken)).expect(200);
  await people.http.get(`${base}`).set(as).expect(200);
}

/** Every key of every object in `value`, however deep. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
}

async function sessionIdOf(who: SignedIn): Promise<string> {
  const sessions = await people.http.get('/v1/me/sessions').set(bearer(who.accessToken)).expect(200);
  return (sessions.body as Array<{ id: string }>)[0].id;
}

describe('what answers carry (A3)', () => {
  it('carries no hash, secret or token in any answer of any read route of a populated account', async () => {
    // Live links exist: the pending person's invitation, and a reset link the owner had sent to the member.
    await people.http.post(`/v1/accounts/${acme.accountId}/users/${acme.memberId}/password-reset`).set(bearer(acme.accessToken)).expect(202);
    const invitation = linkToken(await people.nthMail('pending@acme.test'), '/activate');
    const reset = linkToken(await people.nthMail('dev@acme.test', (mail) => mail.links.some((link) => link.includes('/reset-password?'))), '/reset-password');
    const reads = (await operations()).filter((operation) => operation.method === 'get' && !operation.path.startsWith('/health'));
    const bodies: Array<[string, unknown]> = [];
    for (const operation of reads) {
      const response = await people.http.get(fill(operation.path, idsOf(acme))).set(bearer(acme.accessToken));
      expect(`${label(operation)} -> ${response.status}`).toBe(`${label(operation)} -> 200`);
      bodies.push([label(operation), response.body]);
    }
    const [row] = await system.database.query<{ password_hash: string }>('SELECT password_hash FROM identity.users WHERE id = $1', [acme.userId]);
    const [desk] = await system.database.query<{ password_hash: string }>('SELECT password_hash FROM identity.subusers WHERE id = $1', [acme.subuserId]);
    const secrets = [
      '$argon2',
      row.password_hash.slice(-20),
      desk.password_hash.slice(-20),
      acme.accessToken,
      acme.refreshToken,
      PASSWORD,
      invitation,
      reset,
      acme.keySecret.slice(4),
    ];
    for (const [route, body] of bodies) {
      const text = JSON.stringify(body);
      expect(
        `${route}: ${keysOf(body)
          .filter((key) => /hash|secret|password|token/i.test(key))
          .join(', ')}`,
      ).toBe(`${route}: `);
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });

  it.each([
    ['PATCH', '/v1/me', { role: 'Admin' }, 'role'],
    ['PATCH', '/v1/me', { roles: ['Admin'] }, 'roles'],
    ['PATCH', '/v1/me', { accountId: 'ACCOUNT' }, 'accountId'],
    ['PATCH', '/v1/me', { id: 'ACCOUNT' }, 'id'],
    ['PATCH', '/v1/me', { status: 'active' }, 'status'],
    ['PATCH', '/v1/me', { email: 'new@acme.test' }, 'email'],
    ['PATCH', '/v1/me', { passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$x$y' }, 'passwordHash'],
    ['PATCH', 'USERS/MEMBER', { passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$x$y' }, 'passwordHash'],
    ['PATCH', 'USERS/MEMBER', { id: 'ACCOUNT' }, 'id'],
    ['PATCH', 'USERS/MEMBER', { owner: true }, 'owner'],
    ['POST', 'USERS', { accountId: 'ACCOUNT' }, 'accountId'],
    ['POST', 'USERS', { status: 'active' }, 'status'],
    ['POST', 'USERS', { password: PASSWORD }, 'password'],
    ['PATCH', 'SUBUSERS/DESK', { accountId: 'ACCOUNT' }, 'accountId'],
    ['PATCH', 'SUBUSERS/DESK', { login: 'boss' }, 'login'],
    ['PATCH', 'SUBUSERS/DESK', { passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$x$y' }, 'passwordHash'],
    ['POST', 'SUBUSERS', { accountId: 'ACCOUNT' }, 'accountId'],
    ['POST', 'SUBUSERS', { status: 'active' }, 'status'],
    ['PATCH', 'ROLES/READERS', { accountId: 'ACCOUNT' }, 'accountId'],
    ['PATCH', 'ROLES/READERS', { builtin: true }, 'builtin'],
  ])('refuses %s %s with %j: 400 naming %s, nothing changed', async (method, where, extra, field) => {
    const base = `/v1/accounts/${acme.accountId}`;
    const paths: Record<string, [string, object]> = {
      '/v1/me': ['/v1/me', { firstName: 'Olive' }],
      'USERS/MEMBER': [`${base}/users/${acme.memberId}`, { firstName: 'Test' }],
      USERS: [`${base}/users`, { firstName: 'N', lastName: 'P', email: 'extra@acme.test', phone: '+447700900400', role: 'Support' }],
      'SUBUSERS/DESK': [`${base}/subusers/${acme.subuserId}`, { description: 'the desk' }],
      SUBUSERS: [`${base}/subusers`, { login: 'extra', password: PASSWORD, roles: ['Support'] }],
      'ROLES/READERS': [`${base}/roles/${acme.roleId}`, { name: 'Readers' }],
    };
    const [path, valid] = paths[where];
    const body = JSON.parse(JSON.stringify({ ...valid, ...extra }).replace(/"ACCOUNT"/g, JSON.stringify(globex.accountId))) as object;
    const send = method === 'PATCH' ? people.http.patch(path) : people.http.post(path);
    const response = await send.set(bearer(acme.accessToken)).send(body);
    expect([response.status, response.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(response.body.message).toContain(field);
    await expectIntact(acme);
    const users = await people.http.get(`${base}/users?search=extra@acme`).set(bearer(acme.accessToken)).expect(200);
    expect(users.body.items).toEqual([]);
    const subusers = await people.http.get(`${base}/subusers`).set(bearer(acme.accessToken)).expect(200);
    expect(subusers.body.items.map((subuser: { login: string }) => subuser.login)).toEqual(['desk']);
  });
});

describe('page sizes are capped (L1)', () => {
  /** Every paged list: its path under the account, as called here and as the OpenAPI description names it. */
  const PAGED = [
    ...['users', 'subusers', 'service-accounts', 'audit-events', 'audit-events/feed', 'deliveries', 'applications'].map((list) => [list, list]),
    ['roles/builtin:Admin/holders', 'roles/{roleId}/holders'],
  ];

  it.each(PAGED.map(([list]) => list))('GET /v1/accounts/{accountId}/%s answers a page of 100, and 400 naming limit beyond', async (list) => {
    const base = `/v1/accounts/${acme.accountId}/${list}`;
    const full = await people.http.get(`${base}?limit=100`).set(bearer(acme.accessToken)).expect(200);
    expect(Array.isArray(full.body.items)).toBe(true);
    for (const limit of ['101', '1000000', '0']) {
      const refused = await people.http.get(`${base}?limit=${limit}`).set(bearer(acme.accessToken));
      expect([refused.status, refused.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(refused.body.message).toContain('limit');
    }
  });

  it('has no other paged route (a new one joins the table above)', async () => {
    const openapi = await people.http.get('/openapi.json').expect(200);
    const paged = Object.entries(openapi.body.paths as Record<string, { get?: { parameters?: Array<{ name: string }> } }>)
      .filter(([, item]) => item.get?.parameters?.some((parameter) => parameter.name === 'limit'))
      .map(([path]) => path);
    expect(paged.sort()).toEqual(PAGED.map(([, path]) => `/v1/accounts/{accountId}/${path}`).sort());
  });
});

describe('internal calls carry the end user, and are decided on them (A7)', () => {
  const deliveries = (account: string, actor: { type: string; id: string }) =>
    nats.send('notifications.deliveries.list', { actor: { ...actor, sessionId: randomUUID() }, accountId: account });

  it('lets notifications answer its delivery log by what access says of the actor in the message, whoever sends it', async () => {
    const asOwner = await deliveries(acme.accountId, { type: 'user', id: acme.userId });
    expect(asOwner.err).toBeUndefined();
    expect((asOwner.response as { items: unknown[] }).items.length).toBeGreaterThan(0);
    expect((await deliveries(acme.accountId, { type: 'user', id: acme.memberId })).err).toMatchObject({ code: 'FORBIDDEN' });
    expect((await deliveries(acme.accountId, { type: 'subuser', id: acme.subuserId })).err).toMatchObject({ code: 'FORBIDDEN' });
    expect((await deliveries(acme.accountId, { type: 'user', id: globex.userId })).err).toMatchObject({ code: 'NOT_FOUND' });
    expect((await deliveries(acme.accountId, { type: 'subuser', id: acme.userId })).err).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a message on behalf of nobody: no actor, or an actor that is not a principal', async () => {
    for (const actor of [undefined, { type: 'service', id: randomUUID(), sessionId: randomUUID() }, { type: 'user', sessionId: randomUUID() }]) {
      const reply = await nats.send('notifications.deliveries.list', { actor, accountId: acme.accountId });
      expect(reply.err).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });

  it('has access decide a check on the principal it names: the same question answers as that principal holds', async () => {
    const check = async (principal: { type: string; id: string }) =>
      (await nats.send('access.check', { principal, accountId: acme.accountId, section: 'logs', action: 'read' })).response;
    expect(await check({ type: 'user', id: acme.userId })).toEqual({ allowed: true, reason: 'owner' });
    expect(await check({ type: 'user', id: acme.memberId })).toMatchObject({ allowed: false });
    expect(await check({ type: 'user', id: globex.userId })).toMatchObject({ allowed: false, reason: 'not-member' });
  });
});
