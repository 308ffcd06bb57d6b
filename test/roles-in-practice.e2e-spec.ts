import { TestSystem } from '#libs/testing/system.js';
import { bearer, People, PASSWORD, type SignedIn } from './helpers/people.js';

/** Issue 3's acceptance through HTTP only: the two seeds' models, enforced by the gateway. */

describe('the workspace model: Admin, Editor, Viewer', () => {
  const system = new TestSystem({ env: { ACCESS_CATALOG: 'workspace' } });
  const people = new People(system);
  let owner: SignedIn;
  let viewer: SignedIn;
  let editor: SignedIn;

  beforeAll(async () => {
    await system.start();
    owner = await people.signUp('voice-ai');
    viewer = await people.member(owner, 'viewer@voice-ai.test', 'Viewer');
    editor = await people.member(owner, 'editor@voice-ai.test', 'Editor');
  });
  afterAll(() => system.stop());

  const check = (who: SignedIn, section: string, action: string) =>
    people.http.post(`/v1/accounts/${owner.accountId}/access/check`).set(bearer(who.accessToken)).send({ section, action }).expect(200);

  it('a Viewer is refused a write, an Editor allowed', async () => {
    expect((await check(viewer, 'agents', 'write')).body).toEqual({ allowed: false });
    expect((await check(editor, 'agents', 'write')).body).toEqual({ allowed: true });
    expect((await check(viewer, 'agents', 'read')).body).toEqual({ allowed: true });
  });

  it("refuses a Viewer's write through a Portico route with 403; an Admin is allowed", async () => {
    const body = { firstName: 'New', lastName: 'Person', email: 'new@voice-ai.test', phone: '+447700900300', role: 'Viewer' };
    const refused = await people.http.post(`/v1/accounts/${owner.accountId}/users`).set(bearer(viewer.accessToken)).send(body).expect(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    await people.http.post(`/v1/accounts/${owner.accountId}/users`).set(bearer(editor.accessToken)).send(body).expect(403);
    const admin = await people.member(owner, 'admin@voice-ai.test', 'Admin');
    await people.http.post(`/v1/accounts/${owner.accountId}/users`).set(bearer(admin.accessToken)).send(body).expect(201);
  });

  it("an Admin can change neither their own role nor the owner's", async () => {
    const admin = await people.login('admin@voice-ai.test');
    const adminId = (await people.http.get(`/v1/accounts/${owner.accountId}/users?search=admin@voice`).set(bearer(admin.accessToken)).expect(200)).body.items[0]
      .id as string;
    await people.http.patch(`/v1/accounts/${owner.accountId}/users/${adminId}`).set(bearer(admin.accessToken)).send({ role: 'Viewer' }).expect(403);
    await people.http.patch(`/v1/accounts/${owner.accountId}/users/${owner.userId}`).set(bearer(admin.accessToken)).send({ role: 'Viewer' }).expect(403);
  });

  it('a role change through the user resource is enforced on the next request', async () => {
    await people.http.patch(`/v1/accounts/${owner.accountId}/users/${viewer.userId}`).set(bearer(owner.accessToken)).send({ role: 'Editor' }).expect(200);
    expect((await check(viewer, 'agents', 'write')).body).toEqual({ allowed: true });
    await people.http.patch(`/v1/accounts/${owner.accountId}/users/${viewer.userId}`).set(bearer(owner.accessToken)).send({ role: 'Viewer' }).expect(200);
    expect((await check(viewer, 'agents', 'write')).body).toEqual({ allowed: false });
  });
});

describe('the subuser model: roles limited to applications', () => {
  const system = new TestSystem();
  const people = new People(system);
  let owner: SignedIn;
  let appA: string;
  let appB: string;
  let developer: string;

  beforeAll(async () => {
    await system.start();
    owner = await people.signUp('cpaas');
    const create = async (name: string) =>
      (
        (await people.http.post(`/v1/accounts/${owner.accountId}/applications`).set(bearer(owner.accessToken)).send({ name }).expect(201)).body as {
          id: string;
        }
      ).id;
    appA = await create('A');
    appB = await create('B');
    await people.http
      .post(`/v1/accounts/${owner.accountId}/subusers`)
      .set(bearer(owner.accessToken))
      .send({ login: 'Dev.One', password: PASSWORD, roles: ['Developer'], applicationIds: [appA] })
      .expect(201);
    const login = await people.http.post('/v1/auth/subuser-login').send({ account: 'cpaas', login: 'dev.one', password: PASSWORD }).expect(200);
    developer = (login.body as { accessToken: string }).accessToken;
  });
  afterAll(() => system.stop());

  it('a subuser with Developer on A reads scenarios of A and is refused those of B', async () => {
    const check = (applicationId: string) =>
      people.http
        .post(`/v1/accounts/${owner.accountId}/access/check`)
        .set(bearer(developer))
        .send({ section: 'scenarios', action: 'read', applicationId })
        .expect(200);
    expect((await check(appA)).body).toEqual({ allowed: true });
    expect((await check(appB)).body).toEqual({ allowed: false });
  });

  it('sees only application A, and nothing of B in its menus', async () => {
    const applications = await people.http.get(`/v1/accounts/${owner.accountId}/applications`).set(bearer(developer)).expect(200);
    expect((applications.body as { items: Array<{ id: string }> }).items.map((application) => application.id)).toEqual([appA]);
    const inB = await people.http.get(`/v1/accounts/${owner.accountId}/permissions?applicationId=${appB}`).set(bearer(developer)).expect(200);
    expect((inB.body as { grants: Array<{ section: string }> }).grants.map((grant) => grant.section)).not.toContain('scenarios');
    await people.http.patch(`/v1/accounts/${owner.accountId}/applications/${appB}`).set(bearer(developer)).send({ name: 'taken over' }).expect(403);
  });

  it('is refused account-level writes and gets 404 from another account', async () => {
    await people.http
      .post(`/v1/accounts/${owner.accountId}/subusers`)
      .set(bearer(developer))
      .send({ login: 'more', password: PASSWORD, roles: ['Support'] })
      .expect(403);
    const other = await people.signUp('other-co');
    await people.http.get(`/v1/accounts/${other.accountId}/applications`).set(bearer(developer)).expect(404);
  });
});
