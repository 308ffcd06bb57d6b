/**
 * L3: malformed input of every kind gets a 4xx with a clear message, never a 500 and never a stack
 * trace. Every operation of the OpenAPI description the gateway serves is sent the malformed
 * requests its schema suggests (test/support/openapi-fuzz.ts): wrong types, huge text, bad unicode,
 * unknown and missing fields, bad JSON, bad ids, bad queries. A new route is fuzzed without anyone
 * listing it. Below the gateway, the services refuse the text no field may hold from any NATS caller.
 */
import { TestNatsRequester } from '#libs/testing/nats-rpc.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, People, type SignedIn } from './helpers/people.js';
import { operationsOf, probesFor, type OpenApiDocument, type Probe } from './support/openapi-fuzz.js';

/** The gateway's body limit in this run (set, so that the probes at and over it are exact). */
const BODY_LIMIT = 100 * 1024;

/** Requests in flight at once: enough to finish soon, few enough to leave the shared cores to others. */
const CONCURRENCY = 6;

/**
 * Operations left out of the fuzz run, each with the reason. The test fails if one named here is
 * no longer in the description.
 */
const NOT_FUZZED: Record<string, string> = {};

const system = new TestSystem({ env: { BODY_LIMIT: String(BODY_LIMIT) } });
const people = new People(system);
let owner: SignedIn;
let document: OpenApiDocument;
let ids: Record<string, string>;
let nats: TestNatsRequester;

beforeAll(async () => {
  await system.start();
  owner = await people.signUp('fuzz');
  ids = await createObjects(owner);
  document = (await (await fetch(`${system.url}/openapi.json`)).json()) as OpenApiDocument;
  nats = await TestNatsRequester.open(system.nats.url);
});
afterAll(async () => {
  await nats?.close();
  await system.stop();
});

/** A real object for every path parameter: a person (pending, so never a possible new owner), a subuser, a role, an application, a session, a service account and its key. */
async function createObjects(signedIn: SignedIn): Promise<Record<string, string>> {
  const account = `/v1/accounts/${signedIn.accountId}`;
  const as = <T>(method: 'post' | 'get', path: string, body?: object): Promise<T> =>
    people.http[method](path)
      .set(bearer(signedIn.accessToken))
      .send(body)
      .expect((response) => expect(response.status).toBeLessThan(300))
      .then((response) => response.body as T);
  const userId = await people.invite(signedIn, { email: 'pending@fuzz.test', role: 'Admin' });
  const subuser = await as<{ id: string }>('post', `${account}/subusers`, { login: 'fuzz-desk', roles: ['Developer'], email: 'desk@fuzz.test' });
  const role = await as<{ id: string }>('post', `${account}/roles`, { name: 'Fuzz role', grants: [{ section: 'scenarios', actions: ['read'] }] });
  const application = await as<{ id: string }>('post', `${account}/applications`, { name: 'Fuzz line' });
  const serviceAccount = await as<{ id: string }>('post', `${account}/service-accounts`, { name: 'fuzz-robot', roles: ['Developer'] });
  const key = await as<{ id: string }>('post', `${account}/service-accounts/${serviceAccount.id}/keys`, {});
  // A second session of the owner, so that ending it leaves the run's own token working.
  await people.login(signedIn.email);
  const sessions = await as<Array<{ id: string; current: boolean }>>('get', '/v1/me/sessions');
  const sessionId = sessions.find((session) => !session.current)!.id;
  return {
    accountId: signedIn.accountId,
    userId,
    subuserId: subuser.id,
    roleId: role.id,
    applicationId: application.id,
    sessionId,
    serviceAccountId: serviceAccount.id,
    keyId: key.id,
  };
}

/** What the answer to one probe was. */
interface Answer {
  status: number;
  text: string;
}

async function send(probe: Probe): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (probe.authenticated) headers.authorization = `Bearer ${owner.accessToken}`;
  if (probe.contentType) headers['content-type'] = probe.contentType;
  const response = await fetch(`${system.url}${probe.url}`, { method: probe.method, headers, body: probe.body });
  return { status: response.status, text: await response.text() };
}

/** What must never be in an answer: a stack frame, a source path, a database or driver detail. */
const LEAKS: Array<[string, RegExp]> = [
  ['a stack frame', /\n\s+at |\bat [\w.<>]+ \(/],
  ['a source path', /\/(?:apps|libs|dist|node_modules|work|home|usr)\/|\.[jt]s:\d+/],
  ['an ORM or driver name', /TypeORM|QueryFailedError|EntityNotFound|node-postgres|\bpg\b|NatsError/],
  ['SQL', /\bSQL\b|\bSELECT\b|\bINSERT INTO\b|\bUPDATE\b .* \bSET\b|violates .* constraint|duplicate key|invalid input syntax|relation "|column "/],
];

/** How input is refused: malformed (400), naming nothing (404), clashing (409), too large (413, 431), of the wrong media type (415). */
const INPUT_REFUSALS = new Set([400, 404, 409, 413, 415, 431]);

/** The largest error body: a message names the problem; it does not echo 100 KB of input back. */
const MAX_ERROR_BODY = 4_096;

/** What is wrong with the answer to a probe, if anything. */
function problemsWith(probe: Probe, { status, text }: Answer): string[] {
  const problems = LEAKS.filter(([, pattern]) => pattern.test(text)).map(([what]) => `shows ${what}`);
  if (status >= 500) return [`answers ${status}`, ...problems];
  if (probe.verdict === 'refused' && status < 400) return [`accepts it (${status}) although the description does not allow it`, ...problems];
  // With the owner's token, malformed input must reach the checks of input: a 401, 403 or 429 would mean the probe never did.
  if (probe.verdict === 'refused' && probe.authenticated && !INPUT_REFUSALS.has(status)) return [`refuses it with ${status}, not as input`, ...problems];
  if (status < 400 || !probe.errorBody) return problems;
  return [...problems, ...errorBodyProblems(probe, text)];
}

/** A 4xx body must be `{ code, message, requestId }`, short, its message naming the field when validation refused one. */
function errorBodyProblems(probe: Probe, text: string): string[] {
  if (text.length > MAX_ERROR_BODY) return [`answers ${text.length} characters`];
  let body: { code?: unknown; message?: unknown; requestId?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return ['answers a body that is not JSON'];
  }
  const problems: string[] = [];
  if (typeof body.code !== 'string' || !/^[A-Z][A-Z_]+$/.test(body.code)) problems.push('has no error code');
  if (typeof body.message !== 'string' || body.message.trim() === '') problems.push('has no message');
  if (typeof body.requestId !== 'string') problems.push('has no request id');
  // The field, or the field it sits in (`grants: unknown section or action ...` names the grant's list).
  const names = probe.field?.split('.').filter((segment) => !/^\d+$/.test(segment)) ?? [];
  const message = typeof body.message === 'string' ? body.message : '';
  if (body.code === 'VALIDATION_FAILED' && names.length > 0 && !names.some((name) => new RegExp(`\\b${escapeRegExp(name)}\\b`).test(message))) {
    problems.push(`does not name ${probe.field}`);
  }
  return problems;
}

/** Sends every probe, `CONCURRENCY` at a time, in order; returns a line for each bad answer. */
async function run(probes: Probe[]): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < probes.length) {
      const probe = probes[next++];
      const answer = await send(probe);
      const problems = problemsWith(probe, answer);
      if (problems.length > 0) failures.push(`${probe.operation} | ${probe.mutation} | ${answer.status} ${problems.join(', ')} | ${answer.text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return failures;
}

/** Error lines the services logged (an unexpected error is logged with its stack and answered 500). */
function loggedErrors(): string[] {
  return [...system.logs].flatMap(([name, lines]) => lines.filter((line) => /"level":(50|60)/.test(line)).map((line) => `${name}: ${line.slice(0, 300)}`));
}

describe('malformed input gets a clear 4xx, never a 500 or a stack trace (L3)', () => {
  it('leaves out only operations that are in the description', () => {
    const operations = new Set(operationsOf(document).map(({ name }) => name));
    expect(Object.keys(NOT_FUZZED).filter((name) => !operations.has(name))).toEqual([]);
  });

  it('answers every malformed request to every operation of the OpenAPI description with a 4xx naming the problem, never a 500 or a stack trace', async () => {
    const probes = probesFor({ document, ids, bodyLimit: BODY_LIMIT }, new Set(Object.keys(NOT_FUZZED)));
    // Deletions last: what they delete is then no longer needed by the others (their answers would be 404s, hiding the rest).
    const failures = [...(await run(probes.filter((probe) => probe.method !== 'DELETE'))), ...(await run(probes.filter((probe) => probe.method === 'DELETE')))];
    expect({ probes: probes.length, failures: [...failures.sort(), ...loggedErrors()] }).toEqual({ probes: probes.length, failures: [] });
  });

  it('leaves every service up and answering', async () => {
    const ready = await people.http.get('/health/system').expect(200);
    expect(ready.body.services).toMatchObject({ identity: { ready: true }, access: { ready: true }, notifications: { ready: true } });
    const account = `/v1/accounts/${owner.accountId}`;
    for (const path of ['/v1/me', `${account}/roles`, `${account}/deliveries`]) await people.http.get(path).set(bearer(owner.accessToken)).expect(200);
  });
});

describe('text no field may hold is refused by the services too, from any NATS caller (L3)', () => {
  /** A sign-up as the gateway would forward it, for the slug and e-mail `name`. */
  const signUp = (name: string) => ({
    client: { ip: '192.0.2.10' },
    body: { name: 'Below the gateway', slug: name, owner: { firstName: 'Nat', lastName: 'Caller', email: `${name}@fuzz.test`, phone: '+447700900123' } },
  });
  type SignUp = ReturnType<typeof signUp>;
  const PROTO = JSON.parse('{"__proto__":{"isAdmin":true}}') as Record<string, unknown>;

  it.each<[string, string, (request: SignUp) => unknown, string]>([
    ['a NUL character', 'below-nul', (request) => ({ ...request, body: { ...request.body, name: 'Acme\u0000' } }), 'body.name'],
    [
      'a lone surrogate',
      'below-surrogate',
      (request) => ({ ...request, body: { ...request.body, owner: { ...request.body.owner, lastName: 'Caller\ud800' } } }),
      'body.owner.lastName',
    ],
    [
      'a field named __proto__',
      'below-proto',
      (request) => ({ ...request, body: { ...request.body, owner: { ...request.body.owner, ...PROTO } } }),
      'body.owner.__proto__',
    ],
    [
      'a field named toString (class-transformer would drop it unseen)',
      'below-to-string',
      (request) => ({ ...request, body: { ...request.body, owner: { ...request.body.owner, toString: 1 } } }),
      'body.owner.toString',
    ],
  ])(
    'identity answers a sign-up holding %s, sent straight over NATS, with 400 VALIDATION_FAILED naming the field, and stores nothing',
    async (_label, name, spoil, field) => {
      const reply = await nats.send('identity.accounts.sign-up', spoil(signUp(name)));
      expect(reply.err).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining(field) as string });
      const stored = await system.database.query('SELECT 1 FROM identity.accounts WHERE slug = $1 UNION ALL SELECT 1 FROM identity.users WHERE email = $2', [
        name,
        `${name}@fuzz.test`,
      ]);
      expect(stored).toEqual([]);
    },
  );

  it('access answers a check (a subject it answers directly, bypassing Nest) holding a NUL character with 400 VALIDATION_FAILED naming the field', async () => {
    const check = { principal: { type: 'user', id: owner.userId }, accountId: owner.accountId, section: 'scenarios', action: 'read' };
    expect((await nats.send('access.check', check)).err).toBeUndefined();
    const reply = await nats.send('access.check', { ...check, section: 'scenarios\u0000' });
    // The shared rule's own answer, not whatever the check's parser would have made of the text.
    expect(reply.err).toEqual({ code: 'VALIDATION_FAILED', message: 'section: must not contain a NUL character', details: { field: 'section' } });
  });

  it('has logged no unexpected error meanwhile', () => {
    expect(loggedErrors()).toEqual([]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
