import { TestSystem, TEST_WEB_URL } from '#libs/testing/system.js';
import { bearer, linkToken, NEW_PASSWORD, People, type SignedIn } from './helpers/people.js';

const system = new TestSystem();
const people = new People(system);
const SUBUSER_PASSWORD = 'amber lantern over still water';

let acme: SignedIn;
let globex: SignedIn;

beforeAll(async () => {
  await system.start();
  acme = await people.signUp('acme');
  globex = await people.signUp('globex');
});
afterAll(() => system.stop());

const subusers = (owner: SignedIn) => `/v1/accounts/${owner.accountId}/subusers`;

async function createSubuser(owner: SignedIn, body: Record<string, unknown>): Promise<string> {
  const response = await people.http.post(subusers(owner)).set(bearer(owner.accessToken)).send(body).expect(201);
  return response.body.id;
}

function subuserLogin(account: string, login: string, password: string) {
  return people.http.post('/v1/auth/subuser-login').send({ account, login, password });
}

describe('subuser create -> login page link -> subuser login', () => {
  let supportId: string;

  it('shows no login page link before the first subuser', async () => {
    const account = await people.http.get(`/v1/accounts/${acme.accountId}`).set(bearer(acme.accessToken)).expect(200);
    expect(account.body.subuserLoginUrl).toBeUndefined();
  });

  it('creates a subuser with a password and roles, answering with the login page link; the login is stored lower-cased', async () => {
    const created = await people.http
      .post(subusers(acme))
      .set(bearer(acme.accessToken))
      .send({ login: 'Support-1', password: SUBUSER_PASSWORD, roles: ['Support'], description: 'Front desk' })
      .expect(201);
    expect(created.body).toEqual({ id: expect.any(String), subuserLoginUrl: `${TEST_WEB_URL}/login/acme` });
    supportId = created.body.id;
    const response = await people.http
      .get(`${subusers(acme)}/${supportId}`)
      .set(bearer(acme.accessToken))
      .expect(200);
    expect(response.body).toMatchObject({
      id: supportId,
      login: 'support-1',
      email: null,
      description: 'Front desk',
      roles: ['Support'],
      applicationIds: null,
      active: true,
      status: 'active',
    });
  });

  it("then shows the account's subuser login page link, under PUBLIC_WEB_URL with the slug", async () => {
    const account = await people.http.get(`/v1/accounts/${acme.accountId}`).set(bearer(acme.accessToken)).expect(200);
    expect(account.body.subuserLoginUrl).toBe(`${TEST_WEB_URL}/login/acme`);
  });

  it('signs the subuser in on its account page (login case ignored)', async () => {
    const response = await subuserLogin('acme', 'SUPPORT-1', SUBUSER_PASSWORD).expect(200);
    expect(response.body).toMatchObject({ tokenType: 'Bearer', accessToken: expect.any(String), refreshToken: expect.any(String) });
    const me = await people.http.get('/v1/me').set(bearer(response.body.accessToken)).expect(200);
    expect(me.body).toMatchObject({
      id: supportId,
      type: 'subuser',
      login: 'support-1',
      memberships: [expect.objectContaining({ accountId: acme.accountId, roles: ['Support'] })],
    });
    await people.http.get(`/v1/accounts/${acme.accountId}`).set(bearer(response.body.accessToken)).expect(200);
    await people.http.get(`/v1/accounts/${globex.accountId}`).set(bearer(response.body.accessToken)).expect(404);
  });

  it("refuses the subuser on the user login and on another account's page, with the usual answer", async () => {
    const wrongPage = await subuserLogin('globex', 'support-1', SUBUSER_PASSWORD).expect(401);
    const wrongPassword = await subuserLogin('acme', 'support-1', 'not the right one at all').expect(401);
    const unknownAccount = await subuserLogin('nowhere', 'support-1', SUBUSER_PASSWORD).expect(401);
    for (const response of [wrongPage, unknownAccount]) expect({ ...response.body, requestId: 0 }).toEqual({ ...wrongPassword.body, requestId: 0 });
    const asUser = await people.http.post('/v1/auth/login').send({ email: 'support-1', password: SUBUSER_PASSWORD }).expect(401);
    expect(asUser.body.code).toBe('INVALID_CREDENTIALS');
  });

  it('gives subuser sessions their own absolute lifetime (8 hours by default; users: 30 days) (S5)', async () => {
    await subuserLogin('acme', 'support-1', SUBUSER_PASSWORD).expect(200);
    const rows = await system.database.query<{ principal_type: string; hours: number }>(
      `SELECT principal_type, round(extract(epoch FROM expires_at - created_at) / 3600) AS hours FROM identity.sessions ORDER BY created_at DESC`,
    );
    expect(rows.find((row) => row.principal_type === 'subuser')?.hours).toBe('8');
    expect(rows.find((row) => row.principal_type === 'user')?.hours).toBe(String(30 * 24));
  });

  it('keeps logins unique in the account (409 naming login), not across accounts', async () => {
    const response = await people.http
      .post(subusers(acme))
      .set(bearer(acme.accessToken))
      .send({ login: 'SUPPORT-1', password: SUBUSER_PASSWORD, roles: ['Support'] })
      .expect(409);
    expect(response.body).toMatchObject({ code: 'CONFLICT', details: { field: 'login' } });
    await createSubuser(globex, { login: 'support-1', password: SUBUSER_PASSWORD, roles: ['Support'] });
  });

  it.each([
    ['a short password', { login: 'weak-1', password: 'short', roles: ['Support'] }, 'WEAK_PASSWORD'],
    ['a password containing the login', { login: 'switchboard', password: 'my switchboard secret', roles: ['Support'] }, 'WEAK_PASSWORD'],
    ['a common password', { login: 'weak-2', password: 'qwertyuiop123', roles: ['Support'] }, 'WEAK_PASSWORD'],
    ['neither password nor e-mail', { login: 'nothing', roles: ['Support'] }, 'VALIDATION_FAILED'],
    ['no role', { login: 'norole', password: SUBUSER_PASSWORD, roles: [] }, 'VALIDATION_FAILED'],
    ['a login with spaces', { login: 'bad login', password: SUBUSER_PASSWORD, roles: ['Support'] }, 'VALIDATION_FAILED'],
    ['an unknown role', { login: 'ghost', password: SUBUSER_PASSWORD, roles: ['Ghost'] }, 'VALIDATION_FAILED'],
  ])('refuses %s (400)', async (_label, body, code) => {
    const response = await people.http.post(subusers(acme)).set(bearer(acme.accessToken)).send(body).expect(400);
    expect(response.body.code).toBe(code);
  });
});

describe('a subuser with an e-mail and no password: activation mail', () => {
  it('mails an activation link under its account page; activating lets it sign in', async () => {
    const id = await createSubuser(acme, { login: 'night-shift', email: 'night@acme.test', roles: ['Developer'] });
    const listed = await people.http
      .get(`${subusers(acme)}/${id}`)
      .set(bearer(acme.accessToken))
      .expect(200);
    expect(listed.body.status).toBe('pending');
    const mail = await people.nthMail('night@acme.test');
    const token = linkToken(mail, '/login/acme/activate');
    await subuserLogin('acme', 'night-shift', SUBUSER_PASSWORD).expect(401);
    await people.http.post('/v1/auth/activate').send({ token, password: SUBUSER_PASSWORD }).expect(204);
    await subuserLogin('acme', 'night-shift', SUBUSER_PASSWORD).expect(200);
  });

  it('re-sends a pending invitation: the old link stops working, the new one works; an active subuser gets 409', async () => {
    const id = await createSubuser(acme, { login: 'late-shift', email: 'late@acme.test', roles: ['Developer'] });
    const first = linkToken(await people.nthMail('late@acme.test'), '/login/acme/activate');
    await people.http
      .post(`${subusers(acme)}/${id}/invitation`)
      .set(bearer(acme.accessToken))
      .expect(202);
    const second = linkToken(await people.nthMail('late@acme.test', () => true, 2), '/login/acme/activate');
    expect(second).not.toBe(first);
    expect((await people.http.post('/v1/auth/activate').send({ token: first, password: SUBUSER_PASSWORD }).expect(400)).body.code).toBe('INVALID_TOKEN');
    await people.http.post('/v1/auth/activate').send({ token: second, password: SUBUSER_PASSWORD }).expect(204);
    await subuserLogin('acme', 'late-shift', SUBUSER_PASSWORD).expect(200);
    expect(
      (
        await people.http
          .post(`${subusers(acme)}/${id}/invitation`)
          .set(bearer(acme.accessToken))
          .expect(409)
      ).body.code,
    ).toBe('CONFLICT');
  });

  it('does not re-send an invitation to an inactive subuser, nor to one whose e-mail was taken away', async () => {
    const resend = (id: string) =>
      people.http
        .post(`${subusers(acme)}/${id}/invitation`)
        .set(bearer(acme.accessToken))
        .expect(409);
    const inactive = await createSubuser(acme, { login: 'off-shift', email: 'off@acme.test', roles: ['Developer'] });
    await people.http
      .patch(`${subusers(acme)}/${inactive}`)
      .set(bearer(acme.accessToken))
      .send({ active: false })
      .expect(200);
    expect((await resend(inactive)).body.details).toEqual({ field: 'active' });
    const noEmail = await createSubuser(acme, { login: 'no-mail', email: 'no-mail@acme.test', roles: ['Developer'] });
    await people.http
      .patch(`${subusers(acme)}/${noEmail}`)
      .set(bearer(acme.accessToken))
      .send({ email: null })
      .expect(200);
    expect((await resend(noEmail)).body.details).toEqual({ field: 'email' });
  });

  it("tells the subuser's address when an admin changes it or takes it away (a security notice)", async () => {
    const notice = (address: string) => people.nthMail(address, (mail) => mail.subject.includes('the e-mail of your login'));
    expect((await notice('no-mail@acme.test')).text).toContain('took the e-mail no-mail@acme.test away from your login "no-mail"');
    const moved = await createSubuser(acme, { login: 'moved-shift', email: 'moved@acme.test', password: SUBUSER_PASSWORD, roles: ['Developer'] });
    await people.http
      .patch(`${subusers(acme)}/${moved}`)
      .set(bearer(acme.accessToken))
      .send({ email: 'moved-elsewhere@acme.test' })
      .expect(200);
    expect((await notice('moved@acme.test')).text).toContain('from moved@acme.test to moved-elsewhere@acme.test');
    expect(system.mail.to('moved-elsewhere@acme.test')).toEqual([]);
  });

  it('sends a reset link to its e-mail on request (same 202 for unknown logins)', async () => {
    const known = await people.http.post('/v1/auth/subuser-password-reset').send({ account: 'acme', login: 'night-shift' }).expect(202);
    const unknown = await people.http.post('/v1/auth/subuser-password-reset').send({ account: 'acme', login: 'nobody-here' }).expect(202);
    expect(known.body).toEqual(unknown.body);
    const mail = await people.nthMail('night@acme.test', (m) => m.subject.includes('reset'));
    await people.http
      .post('/v1/auth/password-reset/confirm')
      .send({ token: linkToken(mail, '/login/acme/reset-password'), password: NEW_PASSWORD })
      .expect(204);
    await subuserLogin('acme', 'night-shift', NEW_PASSWORD).expect(200);
  });
});

describe('"Send email" to itself', () => {
  it('lets a subuser that manages subusers send a reset link to its own e-mail through the admin route (202), as a person may', async () => {
    const desk = await people.signUp('desk-co');
    await people.http
      .post(`/v1/accounts/${desk.accountId}/roles`)
      .set(bearer(desk.accessToken))
      .send({ name: 'Desk lead', grants: [{ section: 'subusers', actions: ['read', 'write'] }] })
      .expect(201);
    const id = await createSubuser(desk, { login: 'desk-lead', email: 'desk-lead@desk.test', password: SUBUSER_PASSWORD, roles: ['Desk lead'] });
    const session = await subuserLogin('desk-co', 'desk-lead', SUBUSER_PASSWORD).expect(200);
    await people.http
      .post(`${subusers(desk)}/${id}/password-reset`)
      .set(bearer(session.body.accessToken))
      .expect(202);
    const mail = await people.nthMail('desk-lead@desk.test', (m) => m.subject.includes('reset'));
    await people.http
      .post('/v1/auth/password-reset/confirm')
      .send({ token: linkToken(mail, '/login/desk-co/reset-password'), password: NEW_PASSWORD })
      .expect(204);
    await subuserLogin('desk-co', 'desk-lead', NEW_PASSWORD).expect(200);
  });
});

describe('editing and deleting subusers', () => {
  let appX: string;
  let id: string;

  beforeAll(async () => {
    appX = (await people.http.post(`/v1/accounts/${acme.accountId}/applications`).set(bearer(acme.accessToken)).send({ name: 'X' }).expect(201)).body.id;
    id = await createSubuser(acme, { login: 'dev-x', password: SUBUSER_PASSWORD, roles: ['Developer'], applicationIds: [appX] });
  });

  it('limits roles to applications and lists them', async () => {
    const page = await people.http.get(subusers(acme)).set(bearer(acme.accessToken)).expect(200);
    expect(page.body.items.map((item: { login: string }) => item.login)).toEqual([
      'dev-x',
      'late-shift',
      'moved-shift',
      'night-shift',
      'no-mail',
      'off-shift',
      'support-1',
    ]);
    expect(page.body.items[0]).toMatchObject({ roles: ['Developer'], applicationIds: [appX] });
  });

  it('edits roles, applications and description', async () => {
    const response = await people.http
      .patch(`${subusers(acme)}/${id}`)
      .set(bearer(acme.accessToken))
      .send({ roles: ['Developer', 'Supervisor'], applicationIds: null, description: 'All apps now' })
      .expect(200);
    expect(response.body).toMatchObject({ roles: ['Developer', 'Supervisor'], applicationIds: null, description: 'All apps now' });
  });

  it("lists the subuser's open sessions to its account's admins (which client, from where), who end them; not to another account, nor to the subuser", async () => {
    const sessionsOf = (owner: SignedIn, subuserId = id) => `${subusers(owner)}/${subuserId}/sessions`;
    const signedIn = await people.http
      .post('/v1/auth/subuser-login')
      .set('User-Agent', 'curl/8.5.0')
      .send({ account: 'acme', login: 'dev-x', password: SUBUSER_PASSWORD })
      .expect(200);
    const listed = await people.http.get(sessionsOf(acme)).set(bearer(acme.accessToken)).expect(200);
    expect(listed.body).toEqual([
      expect.objectContaining({ userAgent: 'curl/8.5.0', device: 'curl 8.5', ip: expect.any(String), lastUsedAt: expect.any(String), current: false }),
    ]);
    await people.http.get(sessionsOf(globex)).set(bearer(globex.accessToken)).expect(404);
    await people.http.get(sessionsOf(acme)).set(bearer(signedIn.body.accessToken)).expect(403);
    await people.http.delete(sessionsOf(acme)).set(bearer(acme.accessToken)).expect(200, { ended: 1 });
    expect((await people.http.get(sessionsOf(acme)).set(bearer(acme.accessToken)).expect(200)).body).toEqual([]);
  });

  it('sets a new password: old sessions end at once, the old password stops working', async () => {
    const before = await subuserLogin('acme', 'dev-x', SUBUSER_PASSWORD).expect(200);
    await people.http
      .patch(`${subusers(acme)}/${id}`)
      .set(bearer(acme.accessToken))
      .send({ password: NEW_PASSWORD })
      .expect(200);
    await people.http.get('/v1/me').set(bearer(before.body.accessToken)).expect(401);
    await people.http.post('/v1/auth/refresh').send({ refreshToken: before.body.refreshToken }).expect(401);
    await subuserLogin('acme', 'dev-x', SUBUSER_PASSWORD).expect(401);
    await subuserLogin('acme', 'dev-x', NEW_PASSWORD).expect(200);
  });

  it('deactivates: sessions end at once, sign-in refused; reactivates', async () => {
    const session = await subuserLogin('acme', 'dev-x', NEW_PASSWORD).expect(200);
    await people.http
      .patch(`${subusers(acme)}/${id}`)
      .set(bearer(acme.accessToken))
      .send({ active: false })
      .expect(200);
    await people.http.get(`/v1/accounts/${acme.accountId}`).set(bearer(session.body.accessToken)).expect(401);
    await subuserLogin('acme', 'dev-x', NEW_PASSWORD).expect(401);
    await people.http
      .patch(`${subusers(acme)}/${id}`)
      .set(bearer(acme.accessToken))
      .send({ active: true })
      .expect(200);
    await subuserLogin('acme', 'dev-x', NEW_PASSWORD).expect(200);
  });

  it('deletes: sessions end at once, gone from the list, sign-in refused', async () => {
    const session = await subuserLogin('acme', 'dev-x', NEW_PASSWORD).expect(200);
    await people.http
      .delete(`${subusers(acme)}/${id}`)
      .set(bearer(acme.accessToken))
      .expect(204);
    await people.http.get('/v1/me').set(bearer(session.body.accessToken)).expect(401);
    await people.http
      .get(`${subusers(acme)}/${id}`)
      .set(bearer(acme.accessToken))
      .expect(404);
    await subuserLogin('acme', 'dev-x', NEW_PASSWORD).expect(401);
  });

  it('answers 404 to another account', async () => {
    await people.http.get(subusers(acme)).set(bearer(globex.accessToken)).expect(404);
    const [support] = (await people.http.get(subusers(acme)).set(bearer(acme.accessToken)).expect(200)).body.items.filter(
      (item: { login: string }) => item.login === 'support-1',
    );
    await people.http
      .get(`${subusers(globex)}/${support.id}`)
      .set(bearer(globex.accessToken))
      .expect(404);
  });

  it('pages through subusers with the cursor', async () => {
    const first = await people.http.get(subusers(acme)).query({ limit: 1 }).set(bearer(acme.accessToken)).expect(200);
    expect(first.body.items).toHaveLength(1);
    const second = await people.http.get(subusers(acme)).query({ limit: 1, cursor: first.body.nextCursor }).set(bearer(acme.accessToken)).expect(200);
    expect(second.body.items[0].login > first.body.items[0].login).toBe(true);
  });

  it('finds subusers by a part of their login, e-mail or description, filtered by status and active, with their roles', async () => {
    await createSubuser(acme, { login: 'searchable-ops', email: 'night.watch@example.test', description: 'Équipe de nuit', roles: ['Support'] });
    const byDescription = await people.http.get(subusers(acme)).query({ search: 'equipe' }).set(bearer(acme.accessToken)).expect(200);
    expect(byDescription.body.items).toEqual([expect.objectContaining({ login: 'searchable-ops', status: 'pending', roles: ['Support'] })]);
    const byEmail = await people.http.get(subusers(acme)).query({ search: 'NIGHT.WATCH', status: 'pending', active: 'true' }).set(bearer(acme.accessToken));
    expect(byEmail.body.items.map((item: { login: string }) => item.login)).toEqual(['searchable-ops']);
    const active = await people.http.get(subusers(acme)).query({ search: 'watch', status: 'active' }).set(bearer(acme.accessToken)).expect(200);
    expect(active.body.items).toEqual([]);
    const refused = await people.http.get(subusers(acme)).query({ active: 'yes' }).set(bearer(acme.accessToken)).expect(400);
    expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', message: 'active must be true or false', details: { field: 'active' } });
  });

  it('does not let a subuser change its own roles (403)', async () => {
    const support = (await people.http.get(subusers(acme)).set(bearer(acme.accessToken)).expect(200)).body.items.find(
      (item: { login: string }) => item.login === 'support-1',
    );
    await people.http
      .patch(`${subusers(acme)}/${support.id}`)
      .set(bearer(acme.accessToken))
      .send({ roles: ['Owner'] })
      .expect(200);
    const session = await subuserLogin('acme', 'support-1', SUBUSER_PASSWORD).expect(200);
    await people.http
      .patch(`${subusers(acme)}/${support.id}`)
      .set(bearer(session.body.accessToken))
      .send({ roles: ['Developer'] })
      .expect(403);
  });
});

describe('a subuser whose only application was deleted', () => {
  let id: string;

  beforeAll(async () => {
    const application = (
      await people.http.post(`/v1/accounts/${acme.accountId}/applications`).set(bearer(acme.accessToken)).send({ name: 'Short-lived' }).expect(201)
    ).body.id;
    id = await createSubuser(acme, { login: 'short-lived', password: SUBUSER_PASSWORD, roles: ['Developer'], applicationIds: [application] });
    await people.http.delete(`/v1/accounts/${acme.accountId}/applications/${application}`).set(bearer(acme.accessToken)).expect(204);
  });

  it('is shown holding nothing in no application, not every application', async () => {
    const response = await people.http
      .get(`${subusers(acme)}/${id}`)
      .set(bearer(acme.accessToken))
      .expect(200);
    expect(response.body).toMatchObject({ roles: [], applicationIds: [] });
  });

  it('gets new roles only with the applications named (null: every one), never every application by default', async () => {
    const refused = await people.http
      .patch(`${subusers(acme)}/${id}`)
      .set(bearer(acme.accessToken))
      .send({ roles: ['Developer'], description: 'Not saved' })
      .expect(400);
    expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'applicationIds' } });
    expect(refused.body.message).toMatch(/^applicationIds is required/);
    const unchanged = await people.http
      .get(`${subusers(acme)}/${id}`)
      .set(bearer(acme.accessToken))
      .expect(200);
    expect(unchanged.body).toMatchObject({ roles: [], applicationIds: [], description: '' });

    const rebound = await people.http
      .patch(`${subusers(acme)}/${id}`)
      .set(bearer(acme.accessToken))
      .send({ roles: ['Developer'], applicationIds: null })
      .expect(200);
    expect(rebound.body).toMatchObject({ roles: ['Developer'], applicationIds: null });
  });
});
