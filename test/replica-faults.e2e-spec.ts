import type { NatsLink } from '#libs/platform/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { freePort } from '#libs/testing/nats-server.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, People, type SignedIn } from './helpers/people.js';
import { consumerIdle, openLink } from './support/notifications.js';

/**
 * F4: a replica killed under load. Two replicas each of identity and access share their queue
 * groups; a steady stream of varied requests runs while one replica is killed outright (SIGKILL).
 * Every request must get an answer: a success, or a clean 503/504 (the requests the dead replica
 * held time out); never a 500, a dropped connection or a hang; and the survivor serves what
 * follows. Writes are whole or absent (a person added is a member holding the role, a subuser
 * created exists holding its role limited to an application, or neither), and the invitations
 * still mail exactly once.
 *
 * Gateway replicas are not killed here: the tests have no load balancer in front of them, and a
 * client's connection to a gateway that dies drops with it (a balancer's retry, not Portico, answers that).
 */
const RPC_TIMEOUT_MS = 2000;
/**
 * How long a request may take at most: the slowest route sends a few RPCs one after the other, and
 * only a create that times out waits twice (in identity: the add, then the same add again with its
 * key; in access: the bind, then undoing the create).
 */
const ANSWER_BOUND_MS = 3 * RPC_TIMEOUT_MS + 3000;
/** Requests at once. */
const CONCURRENCY = 6;
/** Successes in a row, all sent after the kill, that show the survivor serving. */
const RECOVERED_RUN = 40;

const system = new TestSystem({ env: { RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS) } });
const people = new People(system);
let link: NatsLink;
let acme: SignedIn;
let dev: SignedIn;
/** The application acme's subusers' role is limited to. */
let app: string;

type Kind = 'me' | 'permissions' | 'user table' | 'create' | 'edit' | 'login' | 'subuser';
const KINDS: Kind[] = ['me', 'permissions', 'user table', 'create', 'edit', 'login', 'subuser'];
const SUBUSER_PASSWORD = 'amber lantern over still water';

/** One request of the load and what came of it; status 0: no answer (a dropped connection, or nothing within the bound). */
interface Answer {
  kind: Kind;
  status: number;
  code?: string;
  /** The person a create added. */
  email?: string;
  /** The subuser a subuser create added. */
  login?: string;
  sentAt: number;
  error?: string;
}

/** A steady stream of varied authenticated requests, {@link CONCURRENCY} at a time, until stopped. */
class Load {
  readonly answers: Answer[] = [];
  sent = 0;
  private stopped = false;
  private readonly workers: Array<Promise<void>>;

  constructor(private readonly prefix: string) {
    this.workers = Array.from({ length: CONCURRENCY }, () => this.work());
  }

  /** Successes in a row at the end, counting only requests sent at or after `since`. */
  trailingSuccesses(since: number): number {
    let run = 0;
    for (let i = this.answers.length - 1; i >= 0 && ok(this.answers[i]) && this.answers[i].sentAt >= since; i -= 1) run += 1;
    return run;
  }

  async stop(): Promise<Answer[]> {
    this.stopped = true;
    await Promise.all(this.workers);
    return this.answers;
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      const n = this.sent++;
      this.answers.push(await this.send(KINDS[n % KINDS.length], n));
    }
  }

  private async send(kind: Kind, n: number): Promise<Answer> {
    const { method, path, token, body, email, login } = this.request(kind, n);
    const sentAt = Date.now();
    try {
      const response = await fetch(`${system.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? bearer(token) : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(ANSWER_BOUND_MS),
      });
      const text = await response.text();
      const code = response.ok || !text ? undefined : (JSON.parse(text) as { code?: string }).code;
      return { kind, status: response.status, code, email, login, sentAt };
    } catch (error) {
      return { kind, status: 0, email, login, sentAt, error: (error as Error).message };
    }
  }

  private request(kind: Kind, n: number): { method: string; path: string; token?: string; body?: unknown; email?: string; login?: string } {
    const account = `/v1/accounts/${acme.accountId}`;
    switch (kind) {
      case 'me':
        return { method: 'GET', path: '/v1/me', token: acme.accessToken };
      case 'permissions':
        return { method: 'GET', path: `${account}/permissions`, token: dev.accessToken };
      case 'user table':
        return { method: 'GET', path: `${account}/users?limit=20`, token: acme.accessToken };
      case 'create': {
        const email = `${this.prefix}-${n}@load.test`;
        const body = { firstName: 'Load', lastName: String(n), email, phone: '+447700900300', role: 'Developer' };
        return { method: 'POST', path: `${account}/users`, token: acme.accessToken, body, email };
      }
      case 'edit':
        return { method: 'PATCH', path: `${account}/users/${dev.userId}`, token: acme.accessToken, body: { lastName: `Edited ${n}` } };
      case 'login':
        return { method: 'POST', path: '/v1/auth/login', body: { email: dev.email, password: 'correct horse battery staple' } };
      case 'subuser': {
        const login = `${this.prefix}-${n}`;
        const body = { login, password: SUBUSER_PASSWORD, roles: ['Developer'], applicationIds: [app] };
        return { method: 'POST', path: `${account}/subusers`, token: acme.accessToken, body, login };
      }
    }
  }
}

function ok(answer: Answer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/** A success, or a clean error naming why: nobody answering (503) or no answer in time (504). */
function acceptable(answer: Answer): boolean {
  if (ok(answer)) return true;
  if (answer.status === 503) return answer.code === 'SERVICE_UNAVAILABLE';
  if (answer.status === 504) return answer.code === 'UPSTREAM_TIMEOUT';
  return false;
}

async function waitReady(url: string): Promise<void> {
  await eventually(
    `${url} to be ready`,
    () =>
      fetch(`${url}/health/ready`).then(
        (response) => response.ok,
        () => false,
      ),
    30_000,
  );
}

/** Starts a second replica of `service` and waits until it is ready. */
async function secondReplica(service: 'identity' | 'access'): Promise<void> {
  const healthPort = await freePort();
  system.startService(`${service}#2`, { HEALTH_PORT: String(healthPort) });
  await waitReady(`http://127.0.0.1:${healthPort}`);
}

/**
 * Runs the load, kills `replica` once the load is under way, and goes on until a good run of
 * successes sent after the kill has come back. Returns every answer.
 */
async function killUnderLoad(replica: string, prefix: string): Promise<{ answers: Answer[]; sent: number; killedAt: number }> {
  const load = new Load(prefix);
  await eventually('the load to be under way', () => load.answers.filter(ok).length >= 30, 30_000, 10);
  const killedAt = Date.now();
  await system.stopService(replica, 'SIGKILL');
  await eventually(`${RECOVERED_RUN} successes in a row after the kill`, () => load.trailingSuccesses(killedAt) >= RECOVERED_RUN, 60_000, 20).catch(
    async (error: Error) => {
      const answers = await load.stop();
      throw new Error(`${error.message}; last answers: ${JSON.stringify(answers.slice(-10))}`);
    },
  );
  const answers = await load.stop();
  return { answers, sent: load.sent, killedAt };
}

/** What the database holds of each person a create named: a membership in acme, a Developer binding there. */
async function outcomes(emails: string[]): Promise<Map<string, { member: boolean; bound: boolean }>> {
  const rows = await system.database.query<{ email: string; member: boolean; bound: boolean }>(
    `SELECT u.email_lower AS email,
            EXISTS (SELECT 1 FROM identity.memberships m WHERE m.account_id = $1 AND m.user_id = u.id) AS member,
            EXISTS (SELECT 1 FROM access.bindings b WHERE b.account_id = $1 AND b.principal_id = u.id AND b.role_id = 'builtin:Developer') AS bound
       FROM identity.users u WHERE u.email_lower = ANY($2)`,
    [acme.accountId, emails],
  );
  const byEmail = new Map(rows.map((row) => [row.email, { member: row.member, bound: row.bound }]));
  return new Map(emails.map((email) => [email, byEmail.get(email) ?? { member: false, bound: false }]));
}

/** What the database holds of each subuser a create named: the subuser in acme, its Developer binding limited to {@link app}. */
async function subuserOutcomes(logins: string[]): Promise<Map<string, { exists: boolean; bound: boolean }>> {
  const rows = await system.database.query<{ login: string; bound: boolean }>(
    `SELECT s.login,
            EXISTS (SELECT 1 FROM access.bindings b WHERE b.account_id = $1 AND b.principal_type = 'subuser' AND b.principal_id = s.id
                       AND b.role_id = 'builtin:Developer' AND b.application_ids = ARRAY[$3::uuid]) AS bound
       FROM identity.subusers s WHERE s.account_id = $1 AND s.login = ANY($2)`,
    [acme.accountId, logins, app],
  );
  const byLogin = new Map(rows.map((row) => [row.login, { exists: true, bound: row.bound }]));
  return new Map(logins.map((login) => [login, byLogin.get(login) ?? { exists: false, bound: false }]));
}

/**
 * Members and subusers of acme holding no role, and roles held by non-members or by no subuser:
 * what a half-done create or removal leaves.
 */
async function halfDone(): Promise<unknown[]> {
  return system.database.query(
    `SELECT 'member without a role' AS what, m.user_id AS id FROM identity.memberships m
      WHERE m.account_id = $1 AND m.user_id <> (SELECT owner_user_id FROM identity.accounts WHERE id = $1)
        AND NOT EXISTS (SELECT 1 FROM access.bindings b WHERE b.account_id = m.account_id AND b.principal_id = m.user_id)
     UNION ALL
     SELECT 'role of a non-member', b.principal_id FROM access.bindings b
      WHERE b.account_id = $1 AND b.principal_type = 'user'
        AND NOT EXISTS (SELECT 1 FROM identity.memberships m WHERE m.account_id = b.account_id AND m.user_id = b.principal_id)
     UNION ALL
     SELECT 'subuser without a role', s.id FROM identity.subusers s
      WHERE s.account_id = $1 AND NOT EXISTS (SELECT 1 FROM access.bindings b WHERE b.account_id = s.account_id AND b.principal_id = s.id)
     UNION ALL
     SELECT 'role of no subuser', b.principal_id FROM access.bindings b
      WHERE b.account_id = $1 AND b.principal_type = 'subuser'
        AND NOT EXISTS (SELECT 1 FROM identity.subusers s WHERE s.account_id = b.account_id AND s.id = b.principal_id)`,
    [acme.accountId],
  );
}

/** Every answer was acceptable and came; writes are whole or absent (people and subusers); each person added got one invitation. */
async function expectNothingLost({ answers, sent, killedAt }: { answers: Answer[]; sent: number; killedAt: number }): Promise<void> {
  expect(answers.length).toBe(sent);
  expect(answers.filter((answer) => !acceptable(answer))).toEqual([]);
  expect(new Set(answers.filter((answer) => answer.sentAt >= killedAt && ok(answer)).map((answer) => answer.kind))).toEqual(new Set(KINDS));

  const creates = answers.filter((answer) => answer.kind === 'create');
  const known = await outcomes(creates.map((answer) => answer.email!));
  expect(creates.filter((answer) => ok(answer) && !(known.get(answer.email!)!.member && known.get(answer.email!)!.bound))).toEqual([]);
  expect(creates.filter((answer) => known.get(answer.email!)!.member !== known.get(answer.email!)!.bound)).toEqual([]);
  const subusers = answers.filter((answer) => answer.kind === 'subuser');
  const made = await subuserOutcomes(subusers.map((answer) => answer.login!));
  expect(subusers.filter((answer) => ok(answer) && !(made.get(answer.login!)!.exists && made.get(answer.login!)!.bound))).toEqual([]);
  expect(subusers.filter((answer) => made.get(answer.login!)!.exists !== made.get(answer.login!)!.bound)).toEqual([]);
  expect(await halfDone()).toEqual([]);

  const added = creates.filter((answer) => known.get(answer.email!)!.member).map((answer) => answer.email!);
  await eventually('an invitation to every person added', () => added.every((email) => system.mail.to(email).length > 0), 30_000);
  await consumerIdle(link);
  await eventually('the outboxes to be empty', async () => (await system.database.query('SELECT id FROM identity.outbox')).length === 0);
  expect(added.filter((email) => system.mail.to(email).length !== 1)).toEqual([]);
  const notAdded = creates.filter((answer) => !known.get(answer.email!)!.member).map((answer) => answer.email!);
  expect(notAdded.filter((email) => system.mail.to(email).length > 1)).toEqual([]);
}

beforeAll(async () => {
  await system.start();
  link = await openLink(system);
  acme = await people.signUp('acme');
  dev = await people.member(acme, 'dev@acme.test', 'Developer');
  app = (await people.http.post(`/v1/accounts/${acme.accountId}/applications`).set(bearer(acme.accessToken)).send({ name: 'Load' }).expect(201)).body.id;
  await Promise.all([secondReplica('identity'), secondReplica('access')]);
});
afterAll(async () => {
  await link?.close();
  await system.stop();
});

describe('F4: a replica killed under load', () => {
  it('identity: every request is answered (a success, or 503/504, never a 500 or a dropped connection), the survivor serves the rest, writes are whole or absent, and invitations mail once', async () => {
    const run = await killUnderLoad('identity', 'identity-kill');
    await expectNothingLost(run);
  }, 180_000);

  it('access: every request is answered (a success, or 503/504, never a 500 or a dropped connection), the survivor serves the rest, and writes are whole or absent', async () => {
    const run = await killUnderLoad('access', 'access-kill');
    await expectNothingLost(run);
  }, 180_000);
});
