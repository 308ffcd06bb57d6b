import request from 'supertest';
import { eventually } from '#libs/testing/eventually.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, People, type SignedIn } from './helpers/people.js';

/** Changes of roles and applications in the account's audit trail, through HTTP only (access's events, recorded by identity). */

const ADDRESS = '203.0.113.77';

describe('the audit trail of roles and applications', () => {
  const system = new TestSystem({ env: { ACCESS_CATALOG: 'workspace', TRUST_PROXY: 'true' } });
  const people = new People(system);
  let owner: SignedIn;
  let admin: SignedIn;
  let stranger: SignedIn;

  beforeAll(async () => {
    await system.start();
    owner = await people.signUp('audited');
    admin = await people.member(owner, 'admin@audited.test', 'Admin');
    stranger = await people.signUp('elsewhere');
  });
  afterAll(() => system.stop());

  /** A change made by the admin, from {@link ADDRESS}. */
  const asAdmin = {
    post: (path: string) => people.http.post(`/v1/accounts/${owner.accountId}${path}`).set(bearer(admin.accessToken)).set('x-forwarded-for', ADDRESS),
    patch: (path: string) => people.http.patch(`/v1/accounts/${owner.accountId}${path}`).set(bearer(admin.accessToken)).set('x-forwarded-for', ADDRESS),
    delete: (path: string) => people.http.delete(`/v1/accounts/${owner.accountId}${path}`).set(bearer(admin.accessToken)).set('x-forwarded-for', ADDRESS),
  };

  const audit = (accountId: string, query: Record<string, string>, who: SignedIn = owner) =>
    request(system.url).get(`/v1/accounts/${accountId}/audit-events`).query(query).set(bearer(who.accessToken));

  /** Polls the account's audit trail until `count` events match `query` (access's changes reach it through its events, shortly after). */
  async function auditedEvents(query: Record<string, string>, count: number): Promise<Array<Record<string, unknown>>> {
    let items: Array<Record<string, unknown>> = [];
    await eventually(
      `${count} audit event(s) ${JSON.stringify(query)}`,
      async () => {
        items = (await audit(owner.accountId, query).expect(200)).body.items;
        return items.length >= count;
      },
      15_000,
    );
    return items;
  }

  const byAdmin = () => ({ outcome: 'success', actor: { type: 'user', id: admin.userId }, ip: ADDRESS, occurredAt: expect.any(String) });

  it('records a custom role created, regranted and renamed, and deleted: who, from where, which role, what changed', async () => {
    const created = await asAdmin
      .post('/roles')
      .send({ name: 'Call reviewer', grants: [{ section: 'history', actions: ['read'] }] })
      .expect(201);
    const roleId = created.body.id as string;
    const granted = [
      { section: 'history', actions: ['read'] },
      { section: 'transcripts', actions: ['read'] },
    ];
    await asAdmin.patch(`/roles/${roleId}`).send({ name: 'Transcript reviewer', grants: granted }).expect(200);
    // A role somebody holds is not deleted, and nothing is recorded of the attempt.
    const held = await asAdmin
      .post('/roles')
      .send({ name: 'Held', grants: [{ section: 'history', actions: ['read'] }] })
      .expect(201);
    await people.invite(admin, { email: 'holder@audited.test', role: 'Held' });
    await asAdmin.delete(`/roles/${held.body.id}`).expect(409);
    await asAdmin.delete(`/roles/${roleId}`).expect(204);

    const [deleted] = await auditedEvents({ action: 'role.deleted' }, 1);
    expect(deleted).toEqual({
      ...byAdmin(),
      id: expect.any(String),
      action: 'role.deleted',
      target: { type: 'role', id: roleId },
      details: { name: 'Transcript reviewer', grants: ['history:read', 'transcripts:read'] },
    });
    const [updated] = await auditedEvents({ action: 'role.updated' }, 1);
    expect(updated).toMatchObject({
      ...byAdmin(),
      target: { type: 'role', id: roleId },
      details: {
        name: 'Transcript reviewer',
        changed: ['name', 'grants'],
        previousName: 'Call reviewer',
        grantsBefore: ['history:read'],
        grantsAfter: ['history:read', 'transcripts:read'],
        holders: 0,
      },
    });
    const history = await auditedEvents({ targetId: roleId }, 3);
    expect(history.map((event) => event.action)).toEqual(['role.deleted', 'role.updated', 'role.created']);
    expect(history[2]).toMatchObject({ ...byAdmin(), details: { name: 'Call reviewer', description: null, grants: ['history:read'] } });
    // Its creation was recorded before the deletion above was; the refused deletion never is.
    expect((await auditedEvents({ targetId: held.body.id }, 1)).map((event) => event.action)).toEqual(['role.created']);
  });

  it('records an application created, renamed and deleted', async () => {
    const created = await asAdmin.post('/applications').send({ name: 'Support line' }).expect(201);
    const applicationId = created.body.id as string;
    await asAdmin.patch(`/applications/${applicationId}`).send({ name: 'Sales line' }).expect(200);
    await asAdmin.delete(`/applications/${applicationId}`).expect(204);

    const history = await auditedEvents({ targetId: applicationId }, 3);
    const target = { type: 'application', id: applicationId };
    expect(history).toEqual([
      expect.objectContaining({
        ...byAdmin(),
        action: 'application.deleted',
        target,
        details: { name: 'Sales line', bindingsNarrowed: 0, bindingsRemoved: 0 },
      }),
      expect.objectContaining({ ...byAdmin(), action: 'application.renamed', target, details: { name: 'Sales line', previousName: 'Support line' } }),
      expect.objectContaining({ ...byAdmin(), action: 'application.created', target, details: { name: 'Support line' } }),
    ]);
    expect((await auditedEvents({ action: 'application.renamed' }, 1)).map((event) => event.target)).toEqual([target]);
  });

  it("records a person's roles changed once access holds them, apart from identity's part of the edit, and no change that did not happen", async () => {
    const userId = (
      await asAdmin.post('/users').send({ firstName: 'Pat', lastName: 'Viewer', email: 'pat@audited.test', phone: '+447700900301', role: 'Viewer' }).expect(201)
    ).body.id as string;
    await asAdmin.patch(`/users/${userId}`).send({ role: 'Editor', lastName: 'Editor' }).expect(200);
    // The same role again, and a role access does not know: no role change, and nothing else changed either.
    await asAdmin.patch(`/users/${userId}`).send({ role: 'Editor' }).expect(200);
    await asAdmin.patch(`/users/${userId}`).send({ role: 'Nobody' }).expect(400);
    // A last change: the relay keeps the order of access's events, so any row of the edits above is in by the time this one is.
    await asAdmin.patch(`/users/${userId}`).send({ role: 'Viewer' }).expect(200);

    const history = await auditedEvents({ targetId: userId }, 5);
    const target = { type: 'user', id: userId };
    const roles = (before: string[], after: string[]) => ({
      roles: after,
      applicationIds: null,
      rolesBefore: before,
      applicationIdsBefore: before.length > 0 ? null : [],
    });
    expect(history).toEqual([
      expect.objectContaining({ ...byAdmin(), action: 'roles.changed', target, details: roles(['Editor'], ['Viewer']) }),
      expect.objectContaining({ ...byAdmin(), action: 'roles.changed', target, details: roles(['Viewer'], ['Editor']) }),
      expect.objectContaining({ ...byAdmin(), action: 'user.updated', target, details: { changed: ['lastName'] } }),
      expect.objectContaining({ ...byAdmin(), action: 'roles.changed', target, details: roles([], ['Viewer']) }),
      expect.objectContaining({ ...byAdmin(), action: 'user.invited', target, details: { role: 'Viewer' } }),
    ]);
  });

  it("is the account's own: another account's admin never sees these events", async () => {
    await auditedEvents({ action: 'role.created' }, 2);
    await audit(owner.accountId, { action: 'role.created' }, stranger).expect(404);
    for (const action of [
      'role.created',
      'role.updated',
      'role.deleted',
      'application.created',
      'application.renamed',
      'application.deleted',
      'roles.changed',
    ]) {
      expect((await audit(stranger.accountId, { action }, stranger).expect(200)).body.items).toEqual([]);
    }
  });
});
