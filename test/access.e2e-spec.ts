import { randomUUID } from 'node:crypto';
import pg from 'pg';
import request from 'supertest';
import { eventually } from '#libs/testing/eventually.js';
import { freePort } from '#libs/testing/nats-server.js';
import { TestNatsRequester } from '#libs/testing/nats-rpc.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, PASSWORD, People, type SignedIn } from './helpers/people.js';

// Re-syncs every second, so a test can wait for one to find a change whose broadcast was lost.
const system = new TestSystem({ env: { ACCESS_RESYNC_INTERVAL_MS: '1000' } });
const people = new People(system);
let nats: TestNatsRequester;

type Owner = SignedIn;
const signUp = (slug: string) => people.signUp(slug);

const as = (who: Owner) => bearer(who.accessToken);

/** Binds `who` (a real user) into `owner`'s account, as `owner` would through a user or subuser resource. */
async function bind(owner: Owner, who: Owner, bindings: Array<{ role: string; applicationIds?: string[] }>) {
  const reply = await nats.send('access.bindings.replace', {
    actor: { type: 'user', id: owner.userId },
    accountId: owner.accountId,
    principal: { type: 'user', id: who.userId },
    bindings,
  });
  if (reply.err) throw new Error(JSON.stringify(reply.err));
  return reply.response;
}

let acme: Owner;
let bob: Owner;
let appX: string;
let appY: string;

beforeAll(async () => {
  await system.start();
  nats = await TestNatsRequester.open(system.nats.url);
  acme = await signUp('acme');
  bob = await signUp('bob-co');
  appX = (await request(system.url).post(`/v1/accounts/${acme.accountId}/applications`).set(as(acme)).send({ name: 'X' }).expect(201)).body.id;
  appY = (await request(system.url).post(`/v1/accounts/${acme.accountId}/applications`).set(as(acme)).send({ name: 'Y' }).expect(201)).body.id;
});
afterAll(async () => {
  await nats?.close();
  await system.stop();
});

describe('the catalogue and roles', () => {
  it('lists the sections of the configured catalogue', async () => {
    const response = await request(system.url).get('/v1/sections').set(as(acme)).expect(200);
    expect(response.body.name).toBe('voximplant');
    expect(response.body.sections).toHaveLength(24);
    expect(response.body.sections).toContainEqual({
      key: 'scenarios',
      label: 'Scenarios in a certain application',
      scope: 'application',
      actions: ['read', 'write', 'delete'],
    });
  });

  it('lists the built-in roles, read-only', async () => {
    const response = await request(system.url).get(`/v1/accounts/${acme.accountId}/roles`).set(as(acme)).expect(200);
    expect(response.body.filter((role: { builtin: boolean }) => role.builtin)).toHaveLength(12);
    await request(system.url).patch(`/v1/accounts/${acme.accountId}/roles/builtin:Developer`).set(as(acme)).send({ name: 'Dev' }).expect(403);
  });

  it('creates, clones, renames and refuses bad custom roles', async () => {
    const created = await request(system.url)
      .post(`/v1/accounts/${acme.accountId}/roles`)
      .set(as(acme))
      .send({ name: 'Call auditor', grants: [{ section: 'call_history', actions: ['read'] }] })
      .expect(201);
    expect(created.body).toMatchObject({ name: 'Call auditor', builtin: false, grants: [{ section: 'call_history', actions: ['read'] }], holders: 0 });
    const cloned = await request(system.url)
      .post(`/v1/accounts/${acme.accountId}/roles`)
      .set(as(acme))
      .send({ name: 'Dev copy', from: 'Developer' })
      .expect(201);
    expect(cloned.body.grants).toContainEqual({ section: 'scenarios', actions: ['read', 'write', 'delete'] });
    await request(system.url).patch(`/v1/accounts/${acme.accountId}/roles/${cloned.body.id}`).set(as(acme)).send({ name: 'Developer light' }).expect(200);
    await request(system.url).post(`/v1/accounts/${acme.accountId}/roles`).set(as(acme)).send({ name: 'call AUDITOR', grants: [] }).expect(409);
    const unknown = await request(system.url)
      .post(`/v1/accounts/${acme.accountId}/roles`)
      .set(as(acme))
      .send({ name: 'Bad', grants: [{ section: 'spaceships', actions: ['fly'] }] })
      .expect(400);
    expect(unknown.body.message).toContain('spaceships:fly');
    await request(system.url).post(`/v1/accounts/${acme.accountId}/roles`).set(as(acme)).send({ name: 'Nothing' }).expect(400);
  });

  it('refuses a role name of null (400, not a NOT NULL failure), at the gateway and in access itself', async () => {
    const role = await request(system.url).post(`/v1/accounts/${acme.accountId}/roles`).set(as(acme)).send({ name: 'Null check', grants: [] }).expect(201);
    const path = `/v1/accounts/${acme.accountId}/roles/${role.body.id}`;
    const response = await request(system.url).patch(path).set(as(acme)).send({ name: null }).expect(400);
    expect(response.body.message).toEqual(expect.stringContaining('name'));
    const reply = await nats.send('access.roles.update', {
      actor: { type: 'user', id: acme.userId },
      accountId: acme.accountId,
      roleId: role.body.id,
      body: { name: null },
    });
    expect(reply.err).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('name') });
    // Clearing the description with null is still allowed.
    await request(system.url).patch(path).set(as(acme)).send({ description: null }).expect(200);
    const roles = await request(system.url).get(`/v1/accounts/${acme.accountId}/roles`).set(as(acme)).expect(200);
    expect(roles.body).toContainEqual(expect.objectContaining({ id: role.body.id, name: 'Null check', description: null }));
  });

  it.each(['constructor', '__proto__', 'toString'])('refuses a grant of the section "%s" as unknown (400)', async (section) => {
    const response = await request(system.url)
      .post(`/v1/accounts/${acme.accountId}/roles`)
      .set(as(acme))
      .send({ name: `Odd ${section}`, grants: [{ section, actions: ['read'] }] })
      .expect(400);
    expect(response.body.message).toContain(`${section}:read`);
  });

  it.each([
    ['developer', '"developer" is the name of a built-in role'],
    ['MainAccount', '"MainAccount" is the name of a built-in role'],
    ['builtin:Payer', 'Names starting with "builtin:" are kept'],
    ['builtin:NoSuchRole', 'Names starting with "builtin:" are kept'],
  ])('refuses a custom role named like a built-in role ("%s", 409), saying why', async (name, why) => {
    const refused = await request(system.url).post(`/v1/accounts/${acme.accountId}/roles`).set(as(acme)).send({ name, grants: [] }).expect(409);
    expect(refused.body.message).toContain(why);
  });

  it('names a role in a path by its id alone: a custom one in either case, a built-in one as builtin:<Name>; its name there is 404, in access too', async () => {
    const roles = `/v1/accounts/${acme.accountId}/roles`;
    const role = await request(system.url).post(roles).set(as(acme)).send({ name: 'By id only', grants: [] }).expect(201);
    await request(system.url).patch(`${roles}/By%20id%20only`).set(as(acme)).send({ name: 'Renamed by name' }).expect(404);
    await request(system.url).delete(`${roles}/By%20id%20only`).set(as(acme)).expect(404);
    for (const subject of ['access.roles.update', 'access.roles.delete']) {
      const reply = await nats.send(subject, {
        actor: { type: 'user', id: acme.userId },
        accountId: acme.accountId,
        roleId: 'By id only',
        ...(subject === 'access.roles.update' && { body: { name: 'Renamed by name' } }),
      });
      expect(reply.err).toMatchObject({ code: 'NOT_FOUND' });
    }
    await request(system.url).patch(`${roles}/builtin:Developer`).set(as(acme)).send({ name: 'Dev' }).expect(403);
    await request(system.url).delete(`${roles}/builtin:Developer`).set(as(acme)).expect(403);
    await request(system.url).patch(`${roles}/${role.body.id.toUpperCase()}`).set(as(acme)).send({ name: 'By id, in capitals' }).expect(200);
    await request(system.url).delete(`${roles}/${role.body.id.toUpperCase()}`).set(as(acme)).expect(204);
  });

  it("answers 404 for another account's roles", async () => {
    await request(system.url).get(`/v1/accounts/${acme.accountId}/roles`).set(as(bob)).expect(404);
    const bobsRole = await request(system.url).post(`/v1/accounts/${bob.accountId}/roles`).set(as(bob)).send({ name: 'Mine', grants: [] }).expect(201);
    await request(system.url).patch(`/v1/accounts/${acme.accountId}/roles/${bobsRole.body.id}`).set(as(acme)).send({ name: 'Stolen' }).expect(404);
  });
});

describe('application scoping', () => {
  beforeAll(() => bind(acme, bob, [{ role: 'Developer', applicationIds: [appX] }]));

  it('a Developer of X may write scenarios of X and nothing of Y', async () => {
    const check = (applicationId: string) =>
      request(system.url)
        .post(`/v1/accounts/${acme.accountId}/access/check`)
        .set(as(bob))
        .send({ section: 'scenarios', action: 'write', applicationId })
        .expect(200);
    expect((await check(appX)).body).toEqual({ allowed: true });
    expect((await check(appY)).body).toEqual({ allowed: false });
  });

  it('shows the effective permissions of one application, for menus', async () => {
    const inX = await request(system.url).get(`/v1/accounts/${acme.accountId}/permissions?applicationId=${appX}`).set(as(bob)).expect(200);
    expect(inX.body.grants).toContainEqual({ section: 'scenarios', actions: ['read', 'write', 'delete'] });
    expect(inX.body.system).toContain('account:read');
    const inY = await request(system.url).get(`/v1/accounts/${acme.accountId}/permissions?applicationId=${appY}`).set(as(bob)).expect(200);
    expect(inY.body.grants).toEqual([]);
  });

  it("answers 404 for the permissions in an application that is not the account's, and never grants in it, even to the owner", async () => {
    const elsewhere = (await request(system.url).post(`/v1/accounts/${bob.accountId}/applications`).set(as(bob)).send({ name: 'Elsewhere' }).expect(201)).body
      .id;
    await request(system.url).get(`/v1/accounts/${acme.accountId}/permissions?applicationId=${elsewhere}`).set(as(acme)).expect(404);
    const check = await request(system.url)
      .post(`/v1/accounts/${acme.accountId}/access/check`)
      .set(as(acme))
      .send({ section: 'scenarios', action: 'read', applicationId: elsewhere })
      .expect(200);
    expect(check.body).toEqual({ allowed: false });
  });

  it('lists only the applications the caller may see', async () => {
    const response = await request(system.url).get(`/v1/accounts/${acme.accountId}/applications`).set(as(bob)).expect(200);
    expect(response.body.items.map((application: { id: string }) => application.id)).toEqual([appX]);
    expect(response.body.nextCursor).toBeNull();
    await request(system.url).patch(`/v1/accounts/${acme.accountId}/applications/${appY}`).set(as(bob)).send({ name: 'mine' }).expect(403);
  });

  it('pages the applications by name and finds them by a part of their name; a bad page or search is a 400 naming it', async () => {
    const list = (query: Record<string, string | number>) => request(system.url).get(`/v1/accounts/${acme.accountId}/applications`).query(query).set(as(acme));
    const first = await list({ limit: 1 }).expect(200);
    expect(first.body.items).toHaveLength(1);
    const second = await list({ limit: 1, cursor: first.body.nextCursor }).expect(200);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].name.toLowerCase() > first.body.items[0].name.toLowerCase()).toBe(true);
    const found = await list({ search: first.body.items[0].name.toUpperCase() }).expect(200);
    expect(found.body.items.map((application: { id: string }) => application.id)).toEqual([first.body.items[0].id]);
    for (const [query, field] of [
      [{ limit: 101 }, 'limit'],
      [{ limit: 0 }, 'limit'],
      [{ cursor: 'not*a*cursor' }, 'cursor'],
      [{ cursor: 'bm90IGEgbGlzdA' }, 'cursor'],
      [{ search: '' }, 'search'],
      [{ search: 'x'.repeat(101) }, 'search'],
      [{ sort: 'name' }, 'sort'],
    ] as const) {
      const refused = await list(query).expect(400);
      expect(refused.body.message).toContain(field);
    }
  });

  it('refuses what the role does not grant (403) and is 404 to strangers', async () => {
    await request(system.url).post(`/v1/accounts/${acme.accountId}/roles`).set(as(bob)).send({ name: 'Escalate', from: 'Owner' }).expect(403);
    const stranger = await signUp('stranger');
    await request(system.url).get(`/v1/accounts/${acme.accountId}/permissions`).set(as(stranger)).expect(404);
  });
});

describe('changes are enforced on the very next request', () => {
  it('a custom role works the moment it is bound and stops the moment it is unbound', async () => {
    const role = await request(system.url)
      .post(`/v1/accounts/${acme.accountId}/roles`)
      .set(as(acme))
      .send({ name: 'Queue keeper', grants: [{ section: 'queues', actions: ['read', 'write'] }] })
      .expect(201);
    const check = () =>
      request(system.url)
        .post(`/v1/accounts/${acme.accountId}/access/check`)
        .set(as(bob))
        .send({ section: 'queues', action: 'write', applicationId: appY })
        .expect(200);
    expect((await check()).body.allowed).toBe(false);
    await bind(acme, bob, [{ role: 'Developer', applicationIds: [appX] }, { role: 'Queue keeper' }]);
    expect((await check()).body.allowed).toBe(true);
    await request(system.url).delete(`/v1/accounts/${acme.accountId}/roles/${role.body.id}`).set(as(acme)).expect(409);
    await bind(acme, bob, [{ role: 'Developer', applicationIds: [appX] }]);
    expect((await check()).body.allowed).toBe(false);
    await request(system.url).delete(`/v1/accounts/${acme.accountId}/roles/${role.body.id}`).set(as(acme)).expect(204);
  });

  it('a change reaches a second gateway at once, through its cache', async () => {
    const second = await system.startGateway('gateway#2', await freePort());
    const createRole = () =>
      request(second)
        .post(`/v1/accounts/${acme.accountId}/roles`)
        .set(as(bob))
        .send({ name: `By bob ${Date.now()}`, grants: [] });
    expect((await createRole()).status).toBe(403);
    expect((await createRole()).status).toBe(403);
    await bind(acme, bob, [{ role: 'Owner' }]);
    expect((await createRole()).status).toBe(201);
    await bind(acme, bob, [{ role: 'Developer', applicationIds: [appX] }]);
    expect((await createRole()).status).toBe(403);
    await system.stopService('gateway#2');
  });

  it('a change made through one access replica is decided the same by every replica, at once', async () => {
    const healthPort = await freePort();
    system.startService('access#2', { HEALTH_PORT: String(healthPort) });
    await waitReady(`http://127.0.0.1:${healthPort}`);
    const check = { principal: { type: 'user', id: bob.userId }, accountId: acme.accountId, section: 'billing', action: 'write' };
    const decisions = async () =>
      Promise.all(Array.from({ length: 20 }, () => nats.send('access.check', check).then((reply) => (reply.response as { allowed: boolean }).allowed)));
    await bind(acme, bob, [{ role: 'Accountant' }]);
    expect(new Set(await decisions())).toEqual(new Set([true]));
    await bind(acme, bob, [{ role: 'Developer', applicationIds: [appX] }]);
    expect(new Set(await decisions())).toEqual(new Set([false]));
    await system.stopService('access#2');
  });

  it('deleting an application takes it out of the bindings limited to it', async () => {
    const doomed = (await request(system.url).post(`/v1/accounts/${acme.accountId}/applications`).set(as(acme)).send({ name: 'Doomed' }).expect(201)).body.id;
    await bind(acme, bob, [{ role: 'Developer', applicationIds: [appX, doomed] }]);
    await request(system.url).delete(`/v1/accounts/${acme.accountId}/applications/${doomed}`).set(as(acme)).expect(204);
    const reply = await nats.send('access.bindings.of-principals', { accountId: acme.accountId, principals: [{ type: 'user', id: bob.userId }] });
    expect((reply.response as Record<string, unknown>)[bob.userId]).toEqual([{ roleId: 'builtin:Developer', role: 'Developer', applicationIds: [appX] }]);
  });
});

describe('changes of one account at once', () => {
  const replaceAsAcme = (bindings: unknown[]) =>
    nats.send('access.bindings.replace', {
      actor: { type: 'user', id: acme.userId },
      accountId: acme.accountId,
      principal: { type: 'user', id: bob.userId },
      bindings,
    });
  const bindingsOfBob = async () =>
    (
      (await nats.send('access.bindings.of-principals', { accountId: acme.accountId, principals: [{ type: 'user', id: bob.userId }] })).response as Record<
        string,
        unknown[]
      >
    )[bob.userId];

  it('two replacements of the same bindings leave one of them, never both', async () => {
    for (let round = 0; round < 5; round += 1) {
      const replies = await Promise.all([replaceAsAcme([{ role: 'Accountant' }]), replaceAsAcme([{ role: 'Developer', applicationIds: [appX] }])]);
      expect(replies.map((reply) => reply.err)).toEqual([undefined, undefined]);
      expect(await bindingsOfBob()).toHaveLength(1);
    }
  });

  it('a role deleted while it is being bound: the delete is refused (409) or the binding is, never both done', async () => {
    for (let round = 0; round < 5; round += 1) {
      const role = await request(system.url)
        .post(`/v1/accounts/${acme.accountId}/roles`)
        .set(as(acme))
        .send({ name: `Racy ${round}`, grants: [] })
        .expect(201);
      const [deleted, bound] = await Promise.all([
        request(system.url).delete(`/v1/accounts/${acme.accountId}/roles/${role.body.id}`).set(as(acme)),
        replaceAsAcme([{ role: role.body.id }]),
      ]);
      expect([deleted.status === 204, bound.err === undefined]).not.toEqual([true, true]);
      expect([deleted.status === 409, bound.err?.code === 'VALIDATION_FAILED']).toContain(true);
    }
  });

  it('an application deleted while a binding limited to it is made: the binding never keeps it', async () => {
    for (let round = 0; round < 10; round += 1) {
      const app = (
        await request(system.url)
          .post(`/v1/accounts/${acme.accountId}/applications`)
          .set(as(acme))
          .send({ name: `Racy app ${round}` })
          .expect(201)
      ).body.id;
      await Promise.all([
        nats.send('access.applications.delete', { actor: { type: 'user', id: acme.userId }, accountId: acme.accountId, applicationId: app }),
        replaceAsAcme([{ role: 'Developer', applicationIds: [appX, app] }]),
      ]);
      expect(JSON.stringify(await bindingsOfBob())).not.toContain(app);
    }
  });

  it('a change whose broadcast was lost (its writer died after the commit) is found by the re-sync, and the gateway follows', async () => {
    await bind(acme, bob, [{ role: 'Developer', applicationIds: [appX] }]);
    const createRole = () =>
      request(system.url)
        .post(`/v1/accounts/${acme.accountId}/roles`)
        .set(as(bob))
        .send({ name: `Found by re-sync ${randomUUID()}`, grants: [] });
    expect((await createRole()).status).toBe(403);
    const client = new pg.Client({ connectionString: system.database.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`DELETE FROM access.bindings WHERE account_id = $1 AND principal_id = $2`, [acme.accountId, bob.userId]);
      await client.query(
        `INSERT INTO access.bindings (id, account_id, principal_type, principal_id, role_id) VALUES (gen_random_uuid(), $1, 'user', $2, 'builtin:Owner')`,
        [acme.accountId, bob.userId],
      );
      await client.query(
        `INSERT INTO access.account_versions (account_id, version) VALUES ($1, 1)
         ON CONFLICT (account_id) DO UPDATE SET version = access.account_versions.version + 1, changed_at = clock_timestamp()`,
        [acme.accountId],
      );
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    const deadline = Date.now() + 15_000;
    let status = (await createRole()).status;
    while (status !== 201 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = (await createRole()).status;
    }
    expect(status).toBe(201);
  });
});

describe('no escalation and the owner rules', () => {
  it('refuses granting what the actor lacks, changing oneself, and touching the owner', async () => {
    const carol = await signUp('carol-co');
    await bind(acme, bob, [{ role: 'Owner' }]);
    const asBob = (principal: Owner, bindings: unknown[]) =>
      nats.send('access.bindings.replace', {
        actor: { type: 'user', id: bob.userId },
        accountId: acme.accountId,
        principal: { type: 'user', id: principal.userId },
        bindings,
      });
    expect((await asBob(carol, [{ role: 'MainAccount' }])).err).toMatchObject({ code: 'FORBIDDEN', message: 'You cannot grant a permission you lack' });
    expect((await asBob(carol, [{ role: 'Admin' }])).err).toBeUndefined();
    expect((await asBob(bob, [{ role: 'MainAccount' }])).err).toMatchObject({ code: 'FORBIDDEN', message: 'Nobody may change their own roles' });
    expect((await asBob(acme, [])).err).toMatchObject({ code: 'FORBIDDEN', message: 'The account owner holds every permission and cannot be changed' });
    const removeOwner = await nats.send('access.bindings.remove-principal', { accountId: acme.accountId, principal: { type: 'user', id: acme.userId } });
    expect(removeOwner.err).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('refuses changing what a role grants while someone holding it has permissions the actor lacks; renaming it is fine', async () => {
    const [manager, chief, helper] = [await signUp('manager-co'), await signUp('chief-co'), await signUp('helper-co')];
    await bind(acme, manager, [{ role: 'Owner' }]);
    const roles = `/v1/accounts/${acme.accountId}/roles`;
    const created = await request(system.url)
      .post(roles)
      .set(as(manager))
      .send({ name: 'Helpers', grants: [{ section: 'control_panel', actions: ['read'] }] })
      .expect(201);
    const role = `${roles}/${created.body.id}`;
    const regrant = {
      grants: [
        { section: 'control_panel', actions: ['read'] },
        { section: 'applications', actions: ['read'] },
      ],
    };
    await bind(acme, helper, [{ role: 'Support' }, { role: 'Helpers' }]);
    await request(system.url).patch(role).set(as(manager)).send(regrant).expect(200);

    await bind(acme, chief, [{ role: 'MainAccount' }, { role: 'Helpers' }]);
    const refused = await request(system.url).patch(role).set(as(manager)).send({ grants: [] }).expect(403);
    expect(refused.body.message).toBe('Someone holding this role has permissions you lack; you cannot change what it grants');
    await request(system.url)
      .patch(role)
      .set(as(manager))
      .send({ name: 'Helpers too', ...regrant })
      .expect(200);
    const grantedSections = async () =>
      ((await request(system.url).get(roles).set(as(acme)).expect(200)).body as Array<{ id: string; grants: Array<{ section: string }> }>)
        .find((listed) => listed.id === created.body.id)!
        .grants.map((grant) => grant.section);
    expect(await grantedSections()).toEqual(['applications', 'control_panel']);
    await request(system.url).patch(role).set(as(acme)).send({ grants: [] }).expect(200);
    expect(await grantedSections()).toEqual([]);
  });
});

describe('a custom role named after the id of another role', () => {
  it('cannot be made: a creation, a clone and a rename naming a UUID are refused (400 naming name)', async () => {
    const roles = `/v1/accounts/${acme.accountId}/roles`;
    const strong = await request(system.url).post(roles).set(as(acme)).send({ name: 'Strong', from: 'Admin' }).expect(201);
    for (const body of [
      { name: strong.body.id, grants: [] },
      { name: strong.body.id.toUpperCase(), from: 'Support' },
    ]) {
      const refused = await request(system.url).post(roles).set(as(acme)).send(body).expect(400);
      expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('name must not be a UUID') });
    }
    const weak = await request(system.url).post(roles).set(as(acme)).send({ name: 'Weak', grants: [] }).expect(201);
    const rename = await request(system.url).patch(`${roles}/${weak.body.id}`).set(as(acme)).send({ name: strong.body.id }).expect(400);
    expect(rename.body).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('name must not be a UUID') });
  });

  it("held by a subuser (made before the rule), stays that role when the subuser's applications are edited: never the role its name is the id of", async () => {
    const roles = `/v1/accounts/${acme.accountId}/roles`;
    const strong = await request(system.url).post(roles).set(as(acme)).send({ name: 'Strong too', from: 'Admin' }).expect(201);
    const client = new pg.Client({ connectionString: system.database.url });
    await client.connect();
    try {
      await client.query(`INSERT INTO access.roles (id, account_id, name, grants) VALUES (gen_random_uuid(), $1, $2, '{}')`, [acme.accountId, strong.body.id]);
      await client.query(`UPDATE access.account_versions SET version = version + 1, changed_at = clock_timestamp() WHERE account_id = $1`, [acme.accountId]);
    } finally {
      await client.end();
    }
    // Any change of the account loads what it committed before.
    await request(system.url).post(`/v1/accounts/${acme.accountId}/applications`).set(as(acme)).send({ name: 'Legacy' }).expect(201);
    const listed = (await request(system.url).get(roles).set(as(acme)).expect(200)).body as Array<{ id: string; name: string }>;
    const weak = listed.find((role) => role.name === strong.body.id)!;
    const subusers = `/v1/accounts/${acme.accountId}/subusers`;
    const created = await request(system.url)
      .post(subusers)
      .set(as(acme))
      .send({ login: 'legacy-role', password: PASSWORD, roles: [weak.id], applicationIds: [appX] })
      .expect(201);
    const edited = await request(system.url)
      .patch(`${subusers}/${created.body.id}`)
      .set(as(acme))
      .send({ applicationIds: [appY] })
      .expect(200);
    expect(edited.body).toMatchObject({ roles: [strong.body.id], applicationIds: [appY] });
    const held = await nats.send('access.bindings.of-principals', { accountId: acme.accountId, principals: [{ type: 'subuser', id: created.body.id }] });
    expect(held.response).toEqual({ [created.body.id]: [{ roleId: weak.id, role: strong.body.id, applicationIds: [appY] }] });
  });
});

describe('a deactivated principal is refused by access itself, for every internal service (S3)', () => {
  let dormant: Owner;
  const check = async (principal: { type: string; id: string }) => {
    const reply = await nats.send('access.check', { principal, accountId: dormant.accountId, section: 'billing', action: 'read' });
    if (reply.err) throw new Error(JSON.stringify(reply.err));
    return reply.response as { allowed: boolean; reason: string };
  };
  /** Waits (bounded) until access has applied identity's event and answers with `reason`. */
  const until = (principal: { type: string; id: string }, reason: string) =>
    eventually(`access.check to answer ${reason}`, async () => (await check(principal)).reason === reason, 15_000);
  const setActive = (path: string, active: boolean) => request(system.url).patch(path).set(as(dormant)).send({ active }).expect(200);

  beforeAll(async () => {
    dormant = await signUp('dormant');
  });

  it('refuses a deactivated member everything in the account once identity tells it; reactivated, allowed again', async () => {
    const userId = await people.invite(dormant, { email: 'dora@dormant.test', role: 'Admin' });
    const member = { type: 'user', id: userId };
    expect(await check(member)).toEqual({ allowed: true, reason: 'granted' });
    await setActive(`/v1/accounts/${dormant.accountId}/users/${userId}`, false);
    await until(member, 'inactive');
    expect(await check(member)).toEqual({ allowed: false, reason: 'inactive' });
    const asked = { principal: member, accountId: dormant.accountId };
    const batch = await nats.send('access.check.batch', { checks: [{ ...asked, section: 'portico.members', action: 'read' }] });
    expect(batch.response).toEqual([{ allowed: false, reason: 'inactive' }]);
    expect((await nats.send('access.applications.allowed', { ...asked, section: 'scenarios', action: 'read' })).response).toEqual({
      all: false,
      applicationIds: [],
    });
    expect((await nats.send('access.permissions.effective', asked)).response).toEqual({ owner: false, grants: [], system: [] });
    await setActive(`/v1/accounts/${dormant.accountId}/users/${userId}`, true);
    await until(member, 'granted');
  });

  it('refuses a removed person everything, even when a request running meanwhile bound them again; added back, they get only the new role', async () => {
    // A person with a login of their own and another account: removal keeps them in Portico.
    const elsewhere = await signUp('elsewhere');
    const userId = await people.join(dormant, { email: elsewhere.email, role: 'Admin' });
    expect(userId).toBe(elsewhere.userId);
    const member = { type: 'user', id: userId };
    // Access hears of the acceptance as of any reactivation: from identity's event.
    await until(member, 'granted');
    await request(system.url).delete(`/v1/accounts/${dormant.accountId}/users/${userId}`).set(as(dormant)).expect(204);
    // What a role change racing the removal does: its bindings land after the gateway unbound the person.
    await bind(dormant, elsewhere, [{ role: 'Admin' }]);
    await until(member, 'inactive');
    expect((await nats.send('access.permissions.effective', { principal: member, accountId: dormant.accountId })).response).toEqual({
      owner: false,
      grants: [],
      system: [],
    });
    await people.join(dormant, { email: elsewhere.email, role: 'Accountant' });
    await until(member, 'granted');
    // Billing is the Accountant's; logs were only the Admin's.
    const logs = await nats.send('access.check', { principal: member, accountId: dormant.accountId, section: 'logs', action: 'read' });
    expect(logs.response).toMatchObject({ allowed: false });
  });

  it('refuses a deactivated subuser everything in the account once identity tells it; reactivated, allowed again', async () => {
    const created = await request(system.url)
      .post(`/v1/accounts/${dormant.accountId}/subusers`)
      .set(as(dormant))
      .send({ login: 'night-desk', password: 'amber lantern over still water', roles: ['Accountant'] })
      .expect(201);
    const subuser = { type: 'subuser', id: (created.body as { id: string }).id };
    expect(await check(subuser)).toEqual({ allowed: true, reason: 'granted' });
    await setActive(`/v1/accounts/${dormant.accountId}/subusers/${subuser.id}`, false);
    await until(subuser, 'inactive');
    await setActive(`/v1/accounts/${dormant.accountId}/subusers/${subuser.id}`, true);
    await until(subuser, 'granted');
  });
});

describe('bad payloads on access subjects', () => {
  it.each([
    ['access.check', { principal: { type: 'robot', id: 'x' }, accountId: 'nope', section: 1 }],
    [
      'access.check',
      {
        principal: { type: 'user', id: '00000000-0000-4000-8000-000000000001' },
        accountId: '00000000-0000-4000-8000-000000000002',
        section: 'nope',
        action: 'read',
      },
    ],
    ['access.check.batch', { checks: 'all of them' }],
    ['access.permissions.effective', {}],
    ['access.applications.allowed', { principal: null }],
    ['access.roles.create', { actor: {}, accountId: 5, body: { name: '' } }],
    ['access.roles.update', { roleId: 7 }],
    ['access.roles.delete', null],
    ['access.applications.create', { body: { name: 'x'.repeat(500) } }],
    ['access.bindings.replace', { bindings: [{ role: 5 }] }],
    ['access.bindings.of-principals', { principals: [{ id: 'x' }] }],
  ])('%s answers VALIDATION_FAILED for %j', async (subject, payload) => {
    const reply = await nats.send(subject, payload);
    expect(reply.err).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.any(String) });
  });

  it('answers a batch with one result per check, errors included', async () => {
    const principal = { type: 'user', id: acme.userId };
    const reply = await nats.send('access.check.batch', {
      checks: [
        { principal, accountId: acme.accountId, section: 'scenarios', action: 'read', applicationId: appX },
        { principal, accountId: acme.accountId, section: 'nowhere', action: 'read' },
      ],
    });
    expect(reply.response).toEqual([{ allowed: true, reason: 'owner' }, { error: { code: 'VALIDATION_FAILED', message: 'Unknown section nowhere' } }]);
  });

  it('survives bytes that are not JSON', async () => {
    await nats.sendRaw('access.check', '\u0000not json', 500).catch(() => undefined);
    await request(system.url).get('/health/system').expect(200);
  });
});

describe('ids in capitals name the same things as in lower case', () => {
  let owner: Owner;
  let member: Owner;
  let application: string;
  const caps = (id: string) => id.toUpperCase();

  beforeAll(async () => {
    owner = await signUp('capitals');
    member = await signUp('capitals-member');
    application = (await request(system.url).post(`/v1/accounts/${owner.accountId}/applications`).set(as(owner)).send({ name: 'Caps' }).expect(201)).body.id;
    await bind(owner, member, [{ role: 'Developer', applicationIds: [application] }]);
  });

  it('checks and shows the permissions in an application named in capitals, and renames it', async () => {
    const check = await request(system.url)
      .post(`/v1/accounts/${owner.accountId}/access/check`)
      .set(as(member))
      .send({ section: 'scenarios', action: 'write', applicationId: caps(application) })
      .expect(200);
    expect(check.body).toEqual({ allowed: true });
    const permissions = await request(system.url)
      .get(`/v1/accounts/${owner.accountId}/permissions?applicationId=${caps(application)}`)
      .set(as(member))
      .expect(200);
    expect(permissions.body.grants).toContainEqual({ section: 'scenarios', actions: ['read', 'write', 'delete'] });
    const renamed = await request(system.url)
      .patch(`/v1/accounts/${owner.accountId}/applications/${caps(application)}`)
      .set(as(owner))
      .send({ name: 'Caps renamed' })
      .expect(200);
    expect(renamed.body).toMatchObject({ id: application, name: 'Caps renamed' });
  });

  it('decides on internal requests naming the principal, the actor and the account in capitals as on lower case ones: oneself and the owner stay out of reach', async () => {
    const replace = (actor: Owner, accountId: string, principalId: string, bindings: unknown[]) =>
      nats.send('access.bindings.replace', {
        actor: { type: 'user', id: caps(actor.userId) },
        accountId,
        principal: { type: 'user', id: principalId },
        bindings,
      });
    expect((await replace(owner, caps(owner.accountId), caps(member.userId), [{ role: 'Owner' }])).err).toBeUndefined();
    expect((await replace(member, owner.accountId, caps(member.userId), [{ role: 'Owner' }])).err).toMatchObject({
      code: 'FORBIDDEN',
      message: 'Nobody may change their own roles',
    });
    expect((await replace(member, owner.accountId, caps(owner.userId), [{ role: 'Support' }])).err).toMatchObject({
      code: 'FORBIDDEN',
      message: 'The account owner holds every permission and cannot be changed',
    });
    const removeOwner = await nats.send('access.bindings.remove-principal', {
      accountId: caps(owner.accountId),
      principal: { type: 'user', id: caps(owner.userId) },
    });
    expect(removeOwner.err).toMatchObject({ code: 'FORBIDDEN' });
    const check = await nats.send('access.check', {
      principal: { type: 'user', id: caps(owner.userId) },
      accountId: caps(owner.accountId),
      section: 'scenarios',
      action: 'read',
      applicationId: caps(application),
    });
    expect(check.response).toEqual({ allowed: true, reason: 'owner' });
  });

  it('answers 404, as for any id that names nothing, to an id of no UUID version (not 400 from one service and 404 from another)', async () => {
    const unversioned = '00000000-0000-0000-0000-000000000001';
    await request(system.url).get(`/v1/accounts/${owner.accountId}/users/${unversioned}`).set(as(owner)).expect(404);
    await request(system.url).get(`/v1/accounts/${owner.accountId}/subusers/${unversioned}`).set(as(owner)).expect(404);
    await request(system.url).patch(`/v1/accounts/${owner.accountId}/applications/${unversioned}`).set(as(owner)).send({ name: 'None' }).expect(404);
    await request(system.url).get(`/v1/accounts/${owner.accountId}/permissions?applicationId=${unversioned}`).set(as(owner)).expect(404);
  });
});

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (
      await fetch(`${url}/health/ready`).then(
        (response) => response.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} never became ready`);
}
