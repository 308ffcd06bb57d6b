import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestNatsRequester } from '#libs/testing/nats-rpc.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, PASSWORD, People, type SignedIn } from './helpers/people.js';

/**
 * One role and its holders through HTTP (issue 3): `GET .../roles/{roleId}` and `.../holders`. The
 * shipped catalogues give `roles:read` to every member; this one gives it to Admins and Auditors
 * alone, so that a member without it can be refused (403), and people (`members:read`) and subusers
 * (`subusers:read`) to read by name in sections of their own: an Auditor reads people, not subusers.
 */
const CATALOG = `
name: holders-test
actions: [read, write, delete]
roles: [Admin, Agent, Auditor]
ownerRole: Owner
system:
  account:read: member
  account:write: owner
  members:read: people:read
  members:write: team:write
  members:delete: team:delete
  subusers:read: desks:read
  subusers:write: team:write
  subusers:delete: team:delete
  service-accounts:read: team:read
  service-accounts:write: team:write
  service-accounts:delete: team:delete
  roles:read: team:read
  roles:write: team:write
  roles:delete: team:delete
  applications:read: member
  applications:write: team:write
  applications:delete: team:delete
  audit:read: team:read
  deliveries:read: team:read
sections:
  - { key: team, label: Team, grants: { Admin: [read, write, delete], Auditor: [read] } }
  - { key: people, label: People, grants: { Admin: [read], Auditor: [read] } }
  - { key: desks, label: Desks, grants: { Admin: [read] } }
  - { key: calls, label: Calls, scope: application, grants: { Admin: [read, write], Agent: [read] } }
`;

const directory = mkdtempSync(join(tmpdir(), 'portico-holders-'));
const catalogPath = join(directory, 'catalog.yaml');
writeFileSync(catalogPath, CATALOG);

const system = new TestSystem({ env: { ACCESS_CATALOG: catalogPath } });
const people = new People(system);
let owner: SignedIn;
let other: SignedIn;
let agent: SignedIn;
let application: string;

interface Holder {
  principal: { type: 'user' | 'subuser'; id: string };
  applicationIds: string[] | null;
  name?: string;
  email?: string | null;
}
interface HolderPage {
  items: Holder[];
  nextCursor: string | null;
}

const roles = (account: SignedIn) => `/v1/accounts/${account.accountId}/roles`;

/** Every holder of `roleId` in the owner's account, page after page of `limit`, as `reader` sees them, and how many pages it took. */
async function allHolders(roleId: string, limit: number, reader = owner): Promise<{ holders: Holder[]; pages: number }> {
  const holders: Holder[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response = await people.http
      .get(`${roles(owner)}/${roleId}/holders`)
      .query({ limit, ...(cursor !== null && { cursor }) })
      .set(bearer(reader.accessToken))
      .expect(200);
    const page = response.body as HolderPage;
    holders.push(...page.items);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor !== null && pages < 20);
  return { holders, pages };
}

beforeAll(async () => {
  await system.start();
  owner = await people.signUp('holders');
  other = await people.signUp('holders-other');
  agent = await people.member(owner, 'agent@holders.test', 'Agent');
  const created = await people.http.post(`/v1/accounts/${owner.accountId}/applications`).set(bearer(owner.accessToken)).send({ name: 'Line' }).expect(201);
  application = (created.body as { id: string }).id;
}, 120_000);
afterAll(async () => {
  await system.stop();
  rmSync(directory, { recursive: true, force: true });
});

describe('one role', () => {
  it('is the role the list shows, built-in or custom (by its id, in either case), with its holders counted', async () => {
    const listed = (await people.http.get(roles(owner)).set(bearer(owner.accessToken)).expect(200)).body as Array<{ id: string; holders: number }>;
    const one = await people.http
      .get(`${roles(owner)}/builtin:Agent`)
      .set(bearer(owner.accessToken))
      .expect(200);
    expect(one.body).toEqual(listed.find((role) => role.id === 'builtin:Agent'));
    expect(one.body).toMatchObject({ name: 'Agent', builtin: true, holders: 1 });

    const custom = await people.http
      .post(roles(owner))
      .set(bearer(owner.accessToken))
      .send({ name: 'Listener', grants: [{ section: 'calls', actions: ['read'] }] })
      .expect(201);
    const byId = await people.http
      .get(`${roles(owner)}/${(custom.body as { id: string }).id.toUpperCase()}`)
      .set(bearer(owner.accessToken))
      .expect(200);
    expect(byId.body).toEqual(custom.body);
  });

  it("is 404 for another account's role, a role's name and an id that names none, there and in its holders", async () => {
    const theirs = await people.http.post(roles(other)).set(bearer(other.accessToken)).send({ name: 'Theirs', grants: [] }).expect(201);
    for (const roleId of [(theirs.body as { id: string }).id, 'Agent', 'builtin:Nobody', '00000000-0000-4000-8000-000000000001']) {
      await people.http
        .get(`${roles(owner)}/${roleId}`)
        .set(bearer(owner.accessToken))
        .expect(404);
      await people.http
        .get(`${roles(owner)}/${roleId}/holders`)
        .set(bearer(owner.accessToken))
        .expect(404);
    }
    // Their own role is theirs to read.
    await people.http
      .get(`${roles(other)}/${(theirs.body as { id: string }).id}`)
      .set(bearer(other.accessToken))
      .expect(200);
  });

  it('is refused (403) to a member without roles:read, and 404 to a stranger', async () => {
    await people.http
      .get(`${roles(owner)}/builtin:Agent`)
      .set(bearer(agent.accessToken))
      .expect(403);
    await people.http
      .get(`${roles(owner)}/builtin:Agent/holders`)
      .set(bearer(agent.accessToken))
      .expect(403);
    await people.http
      .get(`${roles(owner)}/builtin:Agent`)
      .set(bearer(other.accessToken))
      .expect(404);
    await people.http
      .get(`${roles(owner)}/builtin:Agent/holders`)
      .set(bearer(other.accessToken))
      .expect(404);
  });
});

describe("a role's holders", () => {
  it('are listed once bound, where they hold the role, and leave once unbound; the owner is never one', async () => {
    const before = (await allHolders('builtin:Admin', 50)).holders;
    expect(before).toEqual([]);
    const admin = await people.member(owner, 'admin@holders.test', 'Admin');
    const named = { name: 'Test Person', applicationIds: null };
    expect((await allHolders('builtin:Admin', 50)).holders).toEqual([{ principal: { type: 'user', id: admin.userId }, email: 'admin@holders.test', ...named }]);
    expect((await allHolders('builtin:Agent', 50)).holders).toEqual([{ principal: { type: 'user', id: agent.userId }, email: 'agent@holders.test', ...named }]);

    await people.http.patch(`/v1/accounts/${owner.accountId}/users/${admin.userId}`).set(bearer(owner.accessToken)).send({ role: 'Agent' }).expect(200);
    expect((await allHolders('builtin:Admin', 50)).holders).toEqual([]);
    const agents = (await allHolders('builtin:Agent', 50)).holders.map((holder) => holder.principal.id);
    expect(agents.sort()).toEqual([admin.userId, agent.userId].sort());
    expect(agents).not.toContain(owner.userId);
  });

  it('page by type then id over more holders than a page, with the applications each holds the role in', async () => {
    const logins = ['desk.one', 'desk.two', 'desk.three'];
    for (const login of logins) {
      await people.http
        .post(`/v1/accounts/${owner.accountId}/subusers`)
        .set(bearer(owner.accessToken))
        .send({ login, password: PASSWORD, roles: ['Agent'], applicationIds: [application] })
        .expect(201);
    }
    const everyone = (await allHolders('builtin:Agent', 100)).holders;
    expect(everyone.filter((holder) => holder.principal.type === 'subuser')).toHaveLength(logins.length);
    expect(everyone.filter((holder) => holder.principal.type === 'subuser').every((holder) => holder.applicationIds?.join() === application)).toBe(true);
    const key = (holder: Holder) => `${holder.principal.type}:${holder.principal.id}`;
    const sorted = [...everyone].sort((a, b) => (key(a) < key(b) ? -1 : 1));
    expect(everyone).toEqual(sorted);

    const paged = await allHolders('builtin:Agent', 2);
    expect(paged.holders).toEqual(everyone);
    expect(paged.pages).toBe(Math.ceil(everyone.length / 2));
    const role = await people.http
      .get(`${roles(owner)}/builtin:Agent`)
      .set(bearer(owner.accessToken))
      .expect(200);
    expect((role.body as { holders: number }).holders).toBe(everyone.length);
  });

  it('are named only where the caller may read principals of their type: people with members:read, subusers with subusers:read', async () => {
    const auditor = await people.member(owner, 'auditor@holders.test', 'Auditor', { firstName: 'Iris', lastName: 'Audit' });
    await people.http
      .post(`/v1/accounts/${owner.accountId}/subusers`)
      .set(bearer(owner.accessToken))
      .send({ login: 'desk.named', email: 'desk@holders.test', password: PASSWORD, roles: ['Auditor'] })
      .expect(201);
    // An invitation waiting: named as the account typed it, as the user table shows it.
    await people.invite(owner, { email: 'waiting@holders.test', firstName: 'Wai', lastName: 'Ting', role: 'Auditor' });

    const byOwner = (await allHolders('builtin:Auditor', 100)).holders;
    expect(byOwner.map(({ principal, name, email }) => [principal.type, name, email]).sort()).toEqual(
      [
        ['subuser', 'desk.named', 'desk@holders.test'],
        ['user', 'Iris Audit', 'auditor@holders.test'],
        ['user', 'Wai Ting', 'waiting@holders.test'],
      ].sort(),
    );
    const byAuditor = (await allHolders('builtin:Auditor', 100, auditor)).holders;
    expect(byAuditor.map(({ principal }) => principal)).toEqual(byOwner.map(({ principal }) => principal));
    for (const holder of byAuditor) {
      if (holder.principal.type === 'user') expect(holder.name).toEqual(expect.any(String));
      else expect(Object.keys(holder).sort()).toEqual(['applicationIds', 'principal']);
    }
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['cursor=bm90IGpzb24', 'cursor'],
  ])('refuses ?%s (400 naming %s)', async (query, field) => {
    const response = await people.http
      .get(`${roles(owner)}/builtin:Agent/holders?${query}`)
      .set(bearer(owner.accessToken))
      .expect(400);
    expect(JSON.stringify(response.body)).toContain(field);
  });
});

/** A well-formed `identity.principals.describe` but for its principals. */
const PRINCIPALS_REQUEST = {
  actor: { type: 'user', id: '00000000-0000-4000-8000-000000000001', sessionId: '00000000-0000-4000-8000-000000000004' },
  accountId: '00000000-0000-4000-8000-000000000002',
  client: { ip: '10.0.0.1' },
};

describe('the subjects behind them', () => {
  it('identity.principals.describe answers NOT_FOUND to an actor who does not work in the account, well-formed as it is', async () => {
    const nats = await TestNatsRequester.open(system.nats.url);
    try {
      const reply = await nats.send('identity.principals.describe', { ...PRINCIPALS_REQUEST, principals: [{ type: 'user', id: owner.userId }] });
      expect(reply.err).toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await nats.close();
    }
  });

  it.each<[string, unknown]>([
    ['access.roles.get', { actor: {}, accountId: 5 }],
    ['access.roles.get', { actor: { type: 'user', id: '00000000-0000-4000-8000-000000000001' }, accountId: '00000000-0000-4000-8000-000000000002', roleId: 7 }],
    ['access.roles.holders', { roleId: 'builtin:Agent', query: { limit: 500 } }],
    ['access.roles.holders', null],
    ...[
      [],
      Array.from({ length: 101 }, () => ({ type: 'user', id: '00000000-0000-4000-8000-000000000003' })),
      [{ type: 'robot', id: '00000000-0000-4000-8000-000000000003' }],
    ].map((principals): [string, unknown] => ['identity.principals.describe', { ...PRINCIPALS_REQUEST, principals }]),
  ])('%s answers VALIDATION_FAILED for %j', async (subject, payload) => {
    const nats = await TestNatsRequester.open(system.nats.url);
    try {
      const reply = await nats.send(subject, payload);
      expect(reply.err).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.any(String) });
    } finally {
      await nats.close();
    }
  });
});
