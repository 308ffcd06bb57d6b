import { eventually } from '#libs/testing/eventually.js';
import { TestNatsRequester } from '#libs/testing/nats-rpc.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, linkToken, NEW_PASSWORD, PASSWORD, People, type SignedIn } from './helpers/people.js';

const system = new TestSystem();
const people = new People(system);

let acme: SignedIn;
let globex: SignedIn;

beforeAll(async () => {
  await system.start();
  acme = await people.signUp('acme');
  globex = await people.signUp('globex');
});
afterAll(() => system.stop());

describe('a new person: invite -> activate -> login -> refresh -> logout', () => {
  let graceId: string;
  let session: { accessToken: string; refreshToken: string };

  it('invites a new person with a role: 201 with the id only, and an activation mail', async () => {
    const response = await people.http
      .post(`/v1/accounts/${acme.accountId}/users`)
      .set(bearer(acme.accessToken))
      .send({ firstName: 'Grace', lastName: 'Hopper', email: 'Grace@Navy.test', phone: '+12025550143', role: 'Developer' })
      .expect(201);
    expect(Object.keys(response.body)).toEqual(['id']);
    graceId = response.body.id;
    const mail = await people.nthMail('grace@navy.test');
    expect(mail.subject).toContain('Account acme');
    expect(linkToken(mail, '/activate').length).toBeGreaterThanOrEqual(43);
  });

  it('shows the pending person in the user table with the role', async () => {
    const response = await people.http.get(`/v1/accounts/${acme.accountId}/users/${graceId}`).set(bearer(acme.accessToken)).expect(200);
    expect(response.body).toMatchObject({
      id: graceId,
      firstName: 'Grace',
      lastName: 'Hopper',
      email: 'Grace@Navy.test',
      phone: '+12025550143',
      roles: ['Developer'],
      owner: false,
      active: true,
      status: 'pending',
      lastLoginAt: null,
    });
  });

  it('activates from the mail and signs in', async () => {
    await people.activateFromMail('grace@navy.test');
    session = await people.login('grace@navy.test');
    const me = await people.http.get('/v1/me').set(bearer(session.accessToken)).expect(200);
    expect(me.body.memberships).toEqual([expect.objectContaining({ accountId: acme.accountId, roles: ['Developer'], owner: false })]);
    const row = await people.http.get(`/v1/accounts/${acme.accountId}/users/${graceId}`).set(bearer(acme.accessToken)).expect(200);
    expect(row.body).toMatchObject({ status: 'active', lastLoginAt: expect.any(String) });
  });

  it('refreshes: a new pair, and the old refresh token no longer works', async () => {
    const refreshed = await people.http.post('/v1/auth/refresh').send({ refreshToken: session.refreshToken }).expect(200);
    expect(refreshed.body).toMatchObject({ tokenType: 'Bearer', accessToken: expect.any(String), refreshToken: expect.any(String) });
    expect(refreshed.body.refreshToken).not.toBe(session.refreshToken);
    await people.http.get('/v1/me').set(bearer(refreshed.body.accessToken)).expect(200);
    session = refreshed.body;
  });

  it('logs out: the refresh token and the access token are refused at once', async () => {
    await people.http.post('/v1/auth/logout').send({ refreshToken: session.refreshToken }).expect(204);
    await people.http.post('/v1/auth/refresh').send({ refreshToken: session.refreshToken }).expect(401);
    await people.http.get('/v1/me').set(bearer(session.accessToken)).expect(401);
  });
});

describe('a person who already has a login, added to a second account with another role', () => {
  let ada: SignedIn;

  beforeAll(async () => {
    ada = await people.member(acme, 'ada@engines.test', 'Developer', { firstName: 'Ada', lastName: 'Lovelace' });
  });

  it('gets an invitation to accept, not an activation mail; the answer, the row and the delivery log look like any new person', async () => {
    const mailsBefore = system.mail.to('ada@engines.test').length;
    const existing = await people.http
      .post(`/v1/accounts/${globex.accountId}/users`)
      .set(bearer(globex.accessToken))
      .send({ firstName: 'Someone', lastName: 'Else', email: 'ADA@engines.test', phone: '+33612345678', role: 'Owner' })
      .expect(201);
    const fresh = await people.http
      .post(`/v1/accounts/${globex.accountId}/users`)
      .set(bearer(globex.accessToken))
      .send({ firstName: 'New', lastName: 'Person', email: 'new.person@globex.test', phone: '+33612345679', role: 'Developer' })
      .expect(201);
    expect(Object.keys(existing.body)).toEqual(Object.keys(fresh.body));
    expect(existing.body.id).toBe(ada.userId);
    const invitation = await people.nthMail('ada@engines.test', () => true, mailsBefore + 1);
    expect(invitation.subject).toBe('Portico: join Account globex');
    expect(linkToken(invitation, '/accept-invitation').length).toBeGreaterThanOrEqual(43);
    expect(invitation.links.some((link) => link.includes('/activate?'))).toBe(false);
    // Globex sees what it typed, pending, as it sees the new person: not her name, phone or second step.
    const rows = await people.http.get(`/v1/accounts/${globex.accountId}/users?sort=createdAt&order=desc&limit=2`).set(bearer(globex.accessToken)).expect(200);
    const [{ id, firstName, lastName, email, phone, createdAt, roles, ...newest }, second] = rows.body.items;
    expect(newest).toEqual({ owner: false, lastLoginAt: null, active: true, status: 'pending', mfaEnabled: false, mfaBlocked: false });
    expect(second).toMatchObject(newest);
    expect([id, firstName, lastName, email, phone, createdAt, roles]).not.toContain(undefined);
    expect(rows.body.items.find((row: { id: string }) => row.id === ada.userId)).toMatchObject({
      firstName: 'Someone',
      lastName: 'Else',
      phone: '+33612345678',
      status: 'pending',
    });
    await people.nthMail('new.person@globex.test');
    const deliveries = await people.http.get(`/v1/accounts/${globex.accountId}/deliveries?limit=2`).set(bearer(globex.accessToken)).expect(200);
    expect(deliveries.body.items.map((item: { event: string; template: string }) => [item.event, item.template])).toEqual([
      ['identity.user.invited', 'activation'],
      ['identity.user.invited', 'activation'],
    ]);
  });

  it('works in the second account only once she accepts, with her own password', async () => {
    const before = await people.login('ada@engines.test', PASSWORD);
    const me = await people.http.get('/v1/me').set(bearer(before.accessToken)).expect(200);
    expect(me.body.memberships.map((m: { accountId: string }) => m.accountId)).toEqual([acme.accountId]);
    await people.http.get(`/v1/accounts/${globex.accountId}/users`).set(bearer(before.accessToken)).expect(404);

    await expect(people.acceptFromMail('ada@engines.test')).resolves.toEqual({ accountId: globex.accountId, accountName: 'Account globex' });
    const row = await people.http.get(`/v1/accounts/${globex.accountId}/users/${ada.userId}`).set(bearer(globex.accessToken)).expect(200);
    expect(row.body).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', status: 'active', active: true });
  });

  it('keeps her password and her name, and shows a different role in each account', async () => {
    const session = await people.login('ada@engines.test', PASSWORD);
    const me = await people.http.get('/v1/me').set(bearer(session.accessToken)).expect(200);
    expect(me.body).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace' });
    const roles = Object.fromEntries(me.body.memberships.map((m: { accountId: string; roles: string[] }) => [m.accountId, m.roles]));
    expect(roles).toEqual({ [acme.accountId]: ['Developer'], [globex.accountId]: ['Owner'] });
  });

  it('refuses adding her twice to the same account (409)', async () => {
    const response = await people.http
      .post(`/v1/accounts/${globex.accountId}/users`)
      .set(bearer(globex.accessToken))
      .send({ firstName: 'Ada', lastName: 'L', email: 'ada@engines.test', phone: '+33612345678', role: 'Developer' })
      .expect(409);
    expect(response.body).toMatchObject({ code: 'CONFLICT', details: { field: 'email' } });
  });

  it("refuses an admin's edit of the name of a person who also works elsewhere (only she edits it), and lets her do it", async () => {
    const refused = await people.http
      .patch(`/v1/accounts/${globex.accountId}/users/${ada.userId}`)
      .set(bearer(globex.accessToken))
      .send({ lastName: 'Byron' })
      .expect(403);
    expect(refused.body.message).toContain('other accounts');
    const edited = await people.http.patch('/v1/me').set(bearer(ada.accessToken)).send({ lastName: 'King' }).expect(200);
    expect(edited.body).toMatchObject({ id: ada.userId, lastName: 'King', email: 'ada@engines.test' });
    expect(edited.body.memberships.map((membership: { accountId: string }) => membership.accountId).sort()).toEqual([acme.accountId, globex.accountId].sort());
    const row = await people.http.get(`/v1/accounts/${globex.accountId}/users/${ada.userId}`).set(bearer(globex.accessToken)).expect(200);
    expect(row.body.lastName).toBe('King');
  });

  it('lets a person choose the language of her own mails, in every account, and refuses one that is not a language tag', async () => {
    expect((await people.http.patch('/v1/me').set(bearer(ada.accessToken)).send({ locale: 'fr' }).expect(200)).body.locale).toBe('fr');
    expect((await people.http.get('/v1/me').set(bearer(ada.accessToken)).expect(200)).body.locale).toBe('fr');

    // Acme's owner has a reset link sent to her: in her language, whatever the account's.
    await people.http.post(`/v1/accounts/${acme.accountId}/users/${ada.userId}/password-reset`).set(bearer(acme.accessToken)).expect(202);
    const reset = await people.nthMail('ada@engines.test', (mail) => mail.links.some((link) => link.includes('/reset-password?')));
    expect(reset.subject).toBe('Portico : réinitialisez votre mot de passe');

    for (const locale of ['French', null]) {
      const refused = await people.http.patch('/v1/me').set(bearer(ada.accessToken)).send({ locale }).expect(400);
      expect(refused.body.message).toContain('locale');
    }
    await people.http.patch('/v1/me').set(bearer(ada.accessToken)).send({ locale: 'en' }).expect(200);
    expect((await people.http.get('/v1/me').set(bearer(ada.accessToken)).expect(200)).body.locale).toBe('en');
  });

  it('deactivated in one account: refused there at once (404), still working in the other', async () => {
    await people.http.get(`/v1/accounts/${globex.accountId}`).set(bearer(ada.accessToken)).expect(200);
    const session = await people.login('ada@engines.test');
    await people.http.patch(`/v1/accounts/${globex.accountId}/users/${ada.userId}`).set(bearer(globex.accessToken)).send({ active: false }).expect(200);
    await people.http.get(`/v1/accounts/${globex.accountId}`).set(bearer(session.accessToken)).expect(404);
    await people.http.get(`/v1/accounts/${acme.accountId}`).set(bearer(session.accessToken)).expect(200);
    const me = await people.http.get('/v1/me').set(bearer(session.accessToken)).expect(200);
    expect(me.body.memberships.map((m: { accountId: string }) => m.accountId)).toEqual([acme.accountId]);
    await people.http.patch(`/v1/accounts/${globex.accountId}/users/${ada.userId}`).set(bearer(globex.accessToken)).send({ active: true }).expect(200);
    // The gateway readmits her at once; access answers for her again once it has applied identity's event (docs/access.md).
    const readmitted = async () => (await people.http.get(`/v1/accounts/${globex.accountId}`).set(bearer(session.accessToken))).status === 200;
    await eventually('access to readmit her', readmitted, 10_000);
  });

  it("refuses an admin's ending of her sessions while she is active in another account (403: she stays signed in), and ends them once she is not", async () => {
    const session = await people.login('ada@engines.test');
    const endHerSessions = () => people.http.delete(`/v1/accounts/${globex.accountId}/users/${ada.userId}/sessions`).set(bearer(globex.accessToken));
    const refused = await endHerSessions().expect(403);
    expect(refused.body).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('other accounts') });
    await people.http.get(`/v1/accounts/${acme.accountId}`).set(bearer(session.accessToken)).expect(200);
    await people.http.patch(`/v1/accounts/${acme.accountId}/users/${ada.userId}`).set(bearer(acme.accessToken)).send({ active: false }).expect(200);
    const ended = await endHerSessions().expect(200);
    expect(ended.body.ended).toBeGreaterThanOrEqual(1);
    await people.http.get('/v1/me').set(bearer(session.accessToken)).expect(401);
    await people.http.patch(`/v1/accounts/${acme.accountId}/users/${ada.userId}`).set(bearer(acme.accessToken)).send({ active: true }).expect(200);
  });
});

describe('a deactivated user is refused at once', () => {
  it('ends the sessions of a person with no other account: access token, refresh and login all refused', async () => {
    const linus = await people.member(acme, 'linus@acme.test', 'Developer');
    await people.http.get(`/v1/accounts/${acme.accountId}`).set(bearer(linus.accessToken)).expect(200);
    const response = await people.http
      .patch(`/v1/accounts/${acme.accountId}/users/${linus.userId}`)
      .set(bearer(acme.accessToken))
      .send({ active: false })
      .expect(200);
    expect(response.body).toMatchObject({ active: false, status: 'active' });
    await people.http.get('/v1/me').set(bearer(linus.accessToken)).expect(401);
    await people.http.post('/v1/auth/refresh').send({ refreshToken: linus.refreshToken }).expect(401);
    const login = await people.http.post('/v1/auth/login').send({ email: 'linus@acme.test', password: PASSWORD }).expect(401);
    expect(login.body.code).toBe('INVALID_CREDENTIALS');
  });

  it('points whoever edits or removes themselves through the admin routes to their own (403)', async () => {
    const bea = await people.member(acme, 'bea@acme.test', 'Owner');
    const self = `/v1/accounts/${acme.accountId}/users/${bea.userId}`;
    const edited = await people.http.patch(self).set(bearer(bea.accessToken)).send({ phone: '+447700900999' }).expect(403);
    expect(edited.body.message).toContain('PATCH /v1/me');
    const removed = await people.http.delete(self).set(bearer(bea.accessToken)).expect(403);
    expect(removed.body.message).toBe(`Leave the account with DELETE /v1/me/memberships/${acme.accountId}`);
    const ownRole = await people.http.patch(self).set(bearer(bea.accessToken)).send({ role: 'Developer' }).expect(403);
    expect(ownRole.body.message).toBe('Nobody may change their own roles');
  });

  it('never deactivates the owner (403)', async () => {
    const response = await people.http
      .patch(`/v1/accounts/${acme.accountId}/users/${acme.userId}`)
      .set(bearer(acme.accessToken))
      .send({ active: false })
      .expect(403);
    expect(response.body.code).toBe('FORBIDDEN');
  });
});

describe('the user table', () => {
  let table: SignedIn;
  const names = [
    { firstName: 'Zoé', lastName: 'Dupré', email: 'zoe.dupre@table.test', phone: '+33611111111' },
    { firstName: 'Zoe', lastName: 'Martin', email: 'zmartin@table.test', phone: '+33622222222' },
    { firstName: 'José', lastName: 'Núñez', email: 'jose@table.test', phone: '+34633333333' },
    { firstName: 'Brigitte', lastName: 'Åberg', email: 'brigitte@table.test', phone: '+46744444444' },
    { firstName: 'Chen', lastName: 'Li', email: 'chen.li@table.test', phone: '+8613555555555' },
    { firstName: 'Émile', lastName: 'Zola', email: 'emile@table.test', phone: '+33666666666' },
  ];

  beforeAll(async () => {
    table = await people.signUp('table-co', 'owner@table.test');
    for (const person of names) await people.invite(table, { ...person, role: 'Developer' });
  });

  const list = (query: Record<string, string | number>) => people.http.get(`/v1/accounts/${table.accountId}/users`).query(query).set(bearer(table.accessToken));

  it.each([
    ['zoe', ['Dupré', 'Martin']],
    ['ZOÉ', ['Dupré', 'Martin']],
    ['dupre', ['Dupré']],
    ['nunez', ['Núñez']],
    ['aberg', ['Åberg']],
    ['chen.li@', ['Li']],
    ['+34 633', ['Núñez']],
    ['6666', ['Zola']],
    ['emile zola', ['Zola']],
    // Wildcards match themselves, also the full-width ones that folding turns into them.
    ['dupr%', []],
    ['dupr％', []],
    ['z＿e', []],
    ['％％％', []],
    ['chen＿li', []],
    ['chen＼', []],
  ])('search %s finds %j (name, e-mail, phone; case and accents ignored)', async (search, lastNames) => {
    const response = await list({ search }).expect(200);
    expect(response.body.items.map((item: { lastName: string }) => item.lastName).sort()).toEqual([...lastNames].sort());
    expect(response.body.items.every((item: { roles: string[] }) => item.roles.length > 0)).toBe(true);
  });

  // Combining accents alone fold to nothing: LIKE '%%' would match everyone.
  it.each(['zo', '  z ', '', '\u0301\u0301\u0301', 'z\u0301\u0301'])(
    'refuses a search of fewer than 3 characters (%j) with 400 naming search',
    async (search) => {
      const response = await list({ search }).expect(400);
      expect(response.body.message).toContain('search');
    },
  );

  it('marks the account owner, and only them', async () => {
    const items: Array<{ email: string; owner: boolean }> = (await list({ sort: 'email' }).expect(200)).body.items;
    expect(items.filter((item) => item.owner).map((item) => item.email)).toEqual(['owner@table.test']);
    expect(items).toHaveLength(names.length + 1);
  });

  it('filters by status and active, as each row shows them, with a search too', async () => {
    const emails = async (query: Record<string, string>) =>
      (await list({ sort: 'email', ...query }).expect(200)).body.items.map((item: { email: string }) => item.email);
    expect(await emails({ status: 'active' })).toEqual(['owner@table.test']);
    expect(await emails({ status: 'pending' })).toHaveLength(names.length);
    const zola = (await list({ search: 'zola' }).expect(200)).body.items[0];
    await people.http.patch(`/v1/accounts/${table.accountId}/users/${zola.id}`).set(bearer(table.accessToken)).send({ active: false }).expect(200);
    expect(await emails({ active: 'false' })).toEqual(['emile@table.test']);
    expect(await emails({ active: 'true', status: 'pending', search: 'zoe' })).toEqual(['zmartin@table.test', 'zoe.dupre@table.test']);
    expect(await emails({ active: 'false', status: 'active' })).toEqual([]);
    const refused = await list({ status: 'blocked' }).expect(400);
    expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'status' } });
  });

  it('sorts by name (last name, then first name), both ways', async () => {
    const asc = await list({ sort: 'name', order: 'asc' }).expect(200);
    const lastNames = asc.body.items.map((item: { lastName: string }) => item.lastName);
    expect(lastNames).toEqual(['Åberg', 'Dupré', 'Li', 'Martin', 'Núñez', 'table-co', 'Zola'].sort((a, b) => fold(a).localeCompare(fold(b))));
    const desc = await list({ sort: 'name', order: 'desc' }).expect(200);
    expect(desc.body.items.map((item: { lastName: string }) => item.lastName)).toEqual([...lastNames].reverse());
  });

  it('sorts by e-mail and by creation date', async () => {
    const byEmail = await list({ sort: 'email' }).expect(200);
    const emails = byEmail.body.items.map((item: { email: string }) => item.email);
    expect(emails).toEqual([...emails].sort());
    const byCreated = await list({ sort: 'createdAt', order: 'desc' }).expect(200);
    const created = byCreated.body.items.map((item: { createdAt: string }) => item.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    expect(byCreated.body.items[0].email).toBe('emile@table.test');
  });

  it.each(['name', 'email', 'createdAt', 'lastLoginAt'])('pages through every row with the cursor, sorted by %s', async (sort) => {
    const all = (await list({ sort }).expect(200)).body.items.map((item: { id: string }) => item.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await list({ sort, limit: 2, ...(cursor ? { cursor } : {}) }).expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((item: { id: string }) => item.id));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all);
    expect(seen).toHaveLength(7);
  });

  it('refuses a cursor of another sort, a foreign cursor and a page over 100 (400)', async () => {
    const page = await list({ sort: 'name', limit: 2 }).expect(200);
    await list({ sort: 'email', cursor: page.body.nextCursor }).expect(400);
    await list({ cursor: 'bm90LWEtY3Vyc29y' }).expect(400);
    const tooMany = await list({ limit: 101 }).expect(400);
    expect(tooMany.body.message).toContain('limit');
    await list({ sort: 'role' }).expect(400);
  });

  it('edits name and phone of a person whose only account this is, and changes the role', async () => {
    const [zola] = (await list({ search: 'zola' }).expect(200)).body.items;
    const edited = await people.http
      .patch(`/v1/accounts/${table.accountId}/users/${zola.id}`)
      .set(bearer(table.accessToken))
      .send({ firstName: 'Emile', phone: '+33677777777', role: 'Supervisor' })
      .expect(200);
    expect(edited.body).toMatchObject({ firstName: 'Emile', phone: '+33677777777', roles: ['Supervisor'] });
    expect((await list({ search: '7777777' }).expect(200)).body.items.map((item: { id: string }) => item.id)).toEqual([zola.id]);
  });

  it('refuses fields that may not be set (400 naming them)', async () => {
    const [zola] = (await list({ search: 'zola' }).expect(200)).body.items;
    for (const body of [{ password: NEW_PASSWORD }, { email: 'x@y.test' }, { status: 'active' }, { accountId: acme.accountId }]) {
      const response = await people.http.patch(`/v1/accounts/${table.accountId}/users/${zola.id}`).set(bearer(table.accessToken)).send(body).expect(400);
      expect(response.body.message).toContain(Object.keys(body)[0]);
    }
  });

  it('answers 404 for a person of another account, and for a malformed id', async () => {
    await people.http.get(`/v1/accounts/${table.accountId}/users/${acme.userId}`).set(bearer(table.accessToken)).expect(404);
    await people.http.get(`/v1/accounts/${table.accountId}/users/not-a-uuid`).set(bearer(table.accessToken)).expect(404);
    await people.http.get(`/v1/accounts/${acme.accountId}/users`).set(bearer(table.accessToken)).expect(404);
  });
});

describe('invitations: re-send, revoke; removal', () => {
  it('re-sends a pending invitation: the old link stops working, the new one works', async () => {
    const id = await people.invite(acme, { email: 'pending@acme.test', role: 'Developer' });
    const first = linkToken(await people.nthMail('pending@acme.test'), '/activate');
    await people.http.post(`/v1/accounts/${acme.accountId}/users/${id}/invitation`).set(bearer(acme.accessToken)).expect(202);
    const second = linkToken(await people.nthMail('pending@acme.test', () => true, 2), '/activate');
    expect(second).not.toBe(first);
    const stale = await people.http.post('/v1/auth/activate').send({ token: first, password: PASSWORD }).expect(400);
    expect(stale.body.code).toBe('INVALID_TOKEN');
    await people.http.post('/v1/auth/activate').send({ token: second, password: PASSWORD }).expect(204);
    const again = await people.http.post(`/v1/accounts/${acme.accountId}/users/${id}/invitation`).set(bearer(acme.accessToken)).expect(409);
    expect(again.body.code).toBe('CONFLICT');
  });

  it('revokes a pending invitation: the link dies and the person leaves the table', async () => {
    const id = await people.invite(acme, { email: 'revoked@acme.test', role: 'Developer' });
    const token = linkToken(await people.nthMail('revoked@acme.test'), '/activate');
    await people.http.delete(`/v1/accounts/${acme.accountId}/users/${id}/invitation`).set(bearer(acme.accessToken)).expect(204);
    await people.http.post('/v1/auth/activate').send({ token, password: PASSWORD }).expect(400);
    await people.http.get(`/v1/accounts/${acme.accountId}/users/${id}`).set(bearer(acme.accessToken)).expect(404);
  });

  it('removes a person: gone from the table, their token refused in the account at once, the owner never', async () => {
    const mallory = await people.member(acme, 'mallory@acme.test', 'Developer');
    await people.http.get(`/v1/accounts/${acme.accountId}`).set(bearer(mallory.accessToken)).expect(200);
    await people.http.delete(`/v1/accounts/${acme.accountId}/users/${mallory.userId}`).set(bearer(acme.accessToken)).expect(204);
    await people.http.get(`/v1/accounts/${acme.accountId}/users/${mallory.userId}`).set(bearer(acme.accessToken)).expect(404);
    const refused = await people.http.get(`/v1/accounts/${acme.accountId}`).set(bearer(mallory.accessToken));
    expect([401, 404]).toContain(refused.status);
    await people.http.delete(`/v1/accounts/${acme.accountId}/users/${acme.userId}`).set(bearer(acme.accessToken)).expect(403);
  });

  it('re-sent while SMTP refuses: only the new link is delivered, the mail held back with the old one is cancelled', async () => {
    const email = 'held-back@acme.test';
    const activationMails = () =>
      system.database.query<{ status: string; last_error: string | null }>(
        `SELECT status, last_error FROM notifications.deliveries WHERE recipient = $1 AND template = 'activation' ORDER BY created_at`,
        [email],
      );
    system.mail.refuseWith = 421;
    try {
      const id = await people.invite(acme, { email, role: 'Developer' });
      await eventually('the first mail to fail for now', async () => {
        const [first] = await activationMails();
        return first?.status === 'pending' && first.last_error !== null;
      });
      await people.http.post(`/v1/accounts/${acme.accountId}/users/${id}/invitation`).set(bearer(acme.accessToken)).expect(202);
    } finally {
      system.mail.refuseWith = undefined;
    }
    const delivered = await people.nthMail(email);
    // Both final: the old link's mail cancelled when it came back for its retry, the new one recorded sent.
    await eventually(
      'the mail with the old link to be cancelled and the new one sent',
      async () => (await activationMails()).map((mail) => mail.status).join() === 'cancelled,sent',
    );
    expect(system.mail.to(email)).toHaveLength(1);
    await people.http
      .post('/v1/auth/activate')
      .send({ token: linkToken(delivered, '/activate'), password: PASSWORD })
      .expect(204);
  });
});

describe('"Send email": an admin triggers the reset mail but never sees or sets the password (R7)', () => {
  it('answers 202 without any secret; the person gets a reset link', async () => {
    const ken = await people.member(acme, 'ken@acme.test', 'Developer');
    const response = await people.http.post(`/v1/accounts/${acme.accountId}/users/${ken.userId}/password-reset`).set(bearer(acme.accessToken)).expect(202);
    expect(response.body).toEqual({ accepted: true });
    const mail = await people.nthMail('ken@acme.test', (m) => m.subject.includes('reset'));
    expect(mail.text).toContain('administrator');
    await people.http
      .post('/v1/auth/password-reset/confirm')
      .send({ token: linkToken(mail, '/reset-password'), password: NEW_PASSWORD })
      .expect(204);
    await people.login('ken@acme.test', NEW_PASSWORD);
    const row = await people.http.get(`/v1/accounts/${acme.accountId}/users/${ken.userId}`).set(bearer(acme.accessToken)).expect(200);
    expect(JSON.stringify(row.body)).not.toMatch(/argon2|password|token/i);
  });
});

describe('roles and permissions of the people who manage people', () => {
  let mia: SignedIn;

  beforeAll(async () => {
    await people.http
      .post(`/v1/accounts/${acme.accountId}/roles`)
      .set(bearer(acme.accessToken))
      .send({ name: 'People manager', grants: [{ section: 'subusers', actions: ['read', 'write'] }] })
      .expect(201);
    mia = await people.member(acme, 'mia@acme.test', 'People manager');
  });

  it('lets a people manager read the table and add someone with her own role', async () => {
    await people.http.get(`/v1/accounts/${acme.accountId}/users`).set(bearer(mia.accessToken)).expect(200);
    await people.invite(mia, { email: 'helper@acme.test', role: 'People manager' });
  });

  it('refuses granting a role with permissions she lacks, and changes to the owner (403), creating nothing', async () => {
    const escalate = await people.http
      .post(`/v1/accounts/${acme.accountId}/users`)
      .set(bearer(mia.accessToken))
      .send({ firstName: 'E', lastName: 'Scalate', email: 'escalate@acme.test', phone: '+447700900300', role: 'Developer' })
      .expect(403);
    expect(escalate.body.code).toBe('FORBIDDEN');
    const search = await people.http.get(`/v1/accounts/${acme.accountId}/users`).query({ search: 'escalate' }).set(bearer(mia.accessToken)).expect(200);
    expect(search.body.items).toEqual([]);
    await people.http.patch(`/v1/accounts/${acme.accountId}/users/${acme.userId}`).set(bearer(mia.accessToken)).send({ active: false }).expect(403);
    await people.http.patch(`/v1/accounts/${acme.accountId}/users/${mia.userId}`).set(bearer(mia.accessToken)).send({ role: 'Developer' }).expect(403);
    await people.http.patch(`/v1/accounts/${acme.accountId}/users/${mia.userId}`).set(bearer(mia.accessToken)).send({ active: false }).expect(403);
  });

  it('refuses her "Send email" for someone holding permissions she lacks (the owner, a Developer subuser: 403), not for someone she may manage', async () => {
    const sendEmail = (path: string, who: SignedIn) => people.http.post(`/v1/accounts/${acme.accountId}/${path}/password-reset`).set(bearer(who.accessToken));
    const refused = await sendEmail(`users/${acme.userId}`, mia).expect(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    const bot = await people.http
      .post(`/v1/accounts/${acme.accountId}/subusers`)
      .set(bearer(acme.accessToken))
      .send({ login: 'deploy-bot', email: 'deploy-bot@acme.test', password: NEW_PASSWORD, roles: ['Developer'] })
      .expect(201);
    await sendEmail(`subusers/${bot.body.id}`, mia).expect(403);
    await sendEmail(`subusers/${bot.body.id}`, acme).expect(202);
    const helper = (await people.http.get(`/v1/accounts/${acme.accountId}/users`).query({ search: 'helper@' }).set(bearer(mia.accessToken)).expect(200)).body
      .items[0];
    await sendEmail(`users/${helper.id}`, mia).expect(202);
  });

  it('refuses deleting without members:delete, and reading without members:read', async () => {
    const helper = (await people.http.get(`/v1/accounts/${acme.accountId}/users`).query({ search: 'helper@' }).set(bearer(mia.accessToken)).expect(200)).body
      .items[0];
    await people.http.delete(`/v1/accounts/${acme.accountId}/users/${helper.id}`).set(bearer(mia.accessToken)).expect(403);
    const dev = await people.member(acme, 'dev@acme.test', 'Developer');
    await people.http.get(`/v1/accounts/${acme.accountId}/users`).set(bearer(dev.accessToken)).expect(403);
  });
});

function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase();
}

describe('leaving an account', () => {
  let leaver: SignedIn;

  /** What access itself holds for these people in the account (asked over NATS, as an internal service would). */
  async function bindingsIn(accountId: string, userIds: string[]): Promise<Record<string, Array<{ roleId: string }>>> {
    const nats = await TestNatsRequester.open(system.nats.url);
    try {
      const reply = await nats.send('access.bindings.of-principals', { accountId, principals: userIds.map((id) => ({ type: 'user', id })) });
      return reply.response as Record<string, Array<{ roleId: string }>>;
    } finally {
      await nats.close();
    }
  }

  beforeAll(async () => {
    leaver = await people.member(acme, 'leaver@acme.test', 'Developer');
    await people.join(globex, { email: 'leaver@acme.test', role: 'Support' });
  });

  it('refuses the owner (409: hand it over first), a stranger and an inactive member (404), and unbinds none of them', async () => {
    const owner = await people.http.delete(`/v1/me/memberships/${acme.accountId}`).set(bearer(acme.accessToken)).expect(409);
    expect(owner.body.message).toContain('hand it over');
    await people.http.delete(`/v1/me/memberships/${globex.accountId}`).set(bearer(acme.accessToken)).expect(404);
    // Active in globex too, so that being deactivated in acme leaves them signed in.
    const dormant = await people.member(acme, 'dormant@acme.test', 'Developer');
    await people.join(globex, { email: 'dormant@acme.test', role: 'Support' });
    await people.http.patch(`/v1/accounts/${acme.accountId}/users/${dormant.userId}`).set(bearer(acme.accessToken)).send({ active: false }).expect(200);
    await people.http.delete(`/v1/me/memberships/${acme.accountId}`).set(bearer(dormant.accessToken)).expect(404);

    const held = await bindingsIn(acme.accountId, [dormant.userId, acme.userId]);
    expect(held[dormant.userId].map((binding: { roleId: string }) => binding.roleId)).toEqual(['builtin:Developer']);
    await people.http.get(`/v1/accounts/${acme.accountId}`).set(bearer(acme.accessToken)).expect(200);
    await people.http.get(`/v1/accounts/${acme.accountId}/users/${dormant.userId}`).set(bearer(acme.accessToken)).expect(200);
  });

  it('takes the caller out at once: no access to it, no role there, gone from its table; the other account and the session stay', async () => {
    await people.http.get(`/v1/accounts/${acme.accountId}/applications`).set(bearer(leaver.accessToken)).expect(200);

    await people.http.delete(`/v1/me/memberships/${acme.accountId}`).set(bearer(leaver.accessToken)).expect(204);

    await people.http.get(`/v1/accounts/${acme.accountId}/applications`).set(bearer(leaver.accessToken)).expect(404);
    await people.http.get(`/v1/accounts/${acme.accountId}/users/${leaver.userId}`).set(bearer(acme.accessToken)).expect(404);
    const me = await people.http.get('/v1/me').set(bearer(leaver.accessToken)).expect(200);
    expect(me.body.memberships.map((membership: { accountId: string; roles: string[] }) => [membership.accountId, membership.roles])).toEqual([
      [globex.accountId, ['Support']],
    ]);
    // Access itself holds nothing for them there any more (the gateway alone barring them would not be enough for internal services).
    expect(await bindingsIn(acme.accountId, [leaver.userId])).toEqual({ [leaver.userId]: [] });
    const audit = await people.http.get(`/v1/accounts/${acme.accountId}/audit-events`).query({ action: 'user.left' }).set(bearer(acme.accessToken)).expect(200);
    expect(audit.body.items.map((event: { target: { id: string } }) => event.target.id)).toEqual([leaver.userId]);
  });

  it('completes a leave cut off after its unbinding: the member holding nothing there leaves with the same request', async () => {
    const halfway = await people.member(globex, 'halfway@globex.test', 'Support');
    const nats = await TestNatsRequester.open(system.nats.url);
    try {
      await nats.send('access.bindings.remove-principal', { accountId: globex.accountId, principal: { type: 'user', id: halfway.userId } });
    } finally {
      await nats.close();
    }
    await people.http.delete(`/v1/me/memberships/${globex.accountId}`).set(bearer(halfway.accessToken)).expect(204);
    await people.http.get(`/v1/accounts/${globex.accountId}/users/${halfway.userId}`).set(bearer(globex.accessToken)).expect(404);
  });
});

describe("answering an account's invitation (someone who already has a login)", () => {
  /** What access itself holds for `userId` in `accountId` (asked over NATS, as an internal service would). */
  async function rolesHeld(accountId: string, userId: string): Promise<string[]> {
    const nats = await TestNatsRequester.open(system.nats.url);
    try {
      const reply = await nats.send('access.bindings.of-principals', { accountId, principals: [{ type: 'user', id: userId }] });
      return (reply.response as Record<string, Array<{ roleId: string }>>)[userId].map((binding) => binding.roleId);
    } finally {
      await nats.close();
    }
  }

  const invite = (owner: SignedIn, email: string) =>
    people.http
      .post(`/v1/accounts/${owner.accountId}/users`)
      .set(bearer(owner.accessToken))
      .send({ firstName: 'Typed', lastName: 'Name', email, phone: '+33612340000', role: 'Support' })
      .expect(201);

  it('signed in, lists them and accepts one: from then on they work in that account, with the role it gave', async () => {
    const joiner = await people.member(acme, 'joiner@acme.test', 'Developer');
    await invite(globex, 'joiner@acme.test');

    const waiting = await people.http.get('/v1/me/invitations').set(bearer(joiner.accessToken)).expect(200);
    expect(waiting.body).toEqual([{ accountId: globex.accountId, accountName: 'Account globex', invitedAt: expect.any(String) }]);
    await people.http.get(`/v1/accounts/${globex.accountId}/users`).set(bearer(joiner.accessToken)).expect(404);

    const accepted = await people.http.post(`/v1/me/invitations/${globex.accountId}/accept`).set(bearer(joiner.accessToken)).expect(200);
    expect(accepted.body).toEqual({ accountId: globex.accountId, accountName: 'Account globex' });
    await eventually('access applies the acceptance', async () => {
      const me = await people.http.get('/v1/me').set(bearer(joiner.accessToken)).expect(200);
      return me.body.memberships.some((m: { accountId: string; roles: string[] }) => m.accountId === globex.accountId && m.roles.includes('Support'));
    });
    await people.http.get(`/v1/me/invitations`).set(bearer(joiner.accessToken)).expect(200, []);
    // The mailed link went with it; answering again is a 404, as for an account that never invited them.
    await people.http
      .post('/v1/auth/invitation/accept')
      .send({ token: linkToken(await people.nthMail('joiner@acme.test', (mail) => mail.subject.includes('join')), '/accept-invitation') })
      .expect(400);
    await people.http.post(`/v1/me/invitations/${globex.accountId}/accept`).set(bearer(joiner.accessToken)).expect(404);
  });

  it('declining, with the mailed link or signed in, takes them out of the account and access holds no role of theirs there', async () => {
    const decliner = await people.member(acme, 'decliner@acme.test', 'Developer');
    await invite(globex, 'decliner@acme.test');
    expect(await rolesHeld(globex.accountId, decliner.userId)).toEqual(['builtin:Support']);
    const mail = await people.nthMail('decliner@acme.test', (m) => m.subject.includes('join'));

    await people.http
      .post('/v1/auth/invitation/decline')
      .send({ token: linkToken(mail, '/accept-invitation') })
      .expect(204);

    await people.http.get(`/v1/accounts/${globex.accountId}/users/${decliner.userId}`).set(bearer(globex.accessToken)).expect(404);
    expect(await rolesHeld(globex.accountId, decliner.userId)).toEqual([]);
    const audit = await people.http
      .get(`/v1/accounts/${globex.accountId}/audit-events`)
      .query({ action: 'user.invitation-declined' })
      .set(bearer(globex.accessToken));
    expect(audit.body.items.map((event: { actor: { id: string } }) => event.actor.id)).toEqual([decliner.userId]);

    await invite(globex, 'decliner@acme.test');
    await people.http.delete(`/v1/me/invitations/${globex.accountId}`).set(bearer(decliner.accessToken)).expect(204);
    expect(await rolesHeld(globex.accountId, decliner.userId)).toEqual([]);
    await people.http.get(`/v1/accounts/${globex.accountId}/users/${decliner.userId}`).set(bearer(globex.accessToken)).expect(404);
  });
});

describe('open sign-up naming someone who already has a login as the owner', () => {
  /** Why access refuses or allows `userId` to read the logs of `accountId`, as an internal service asks it. */
  async function accessReason(accountId: string, userId: string): Promise<string> {
    const nats = await TestNatsRequester.open(system.nats.url);
    try {
      const reply = await nats.send('access.check', { principal: { type: 'user', id: userId }, accountId, section: 'logs', action: 'read' });
      return (reply.response as { reason: string }).reason;
    } finally {
      await nats.close();
    }
  }

  const signUpFor = (slug: string, email: string) =>
    people.http
      .post('/v1/accounts')
      .send({ name: `Account ${slug}`, slug, owner: { firstName: 'Typed', lastName: 'Bysignup', email, phone: '+447700900155' } })
      .expect(201);
  const invitationMail = (email: string) => people.nthMail(email, (mail) => mail.links.some((link) => link.includes('/accept-invitation?')));

  it('makes them nothing there until they accept; accepting, they own and work in it', async () => {
    const wanted = await people.member(acme, 'wanted@acme.test', 'Developer');
    const created = await signUpFor('wanted-account', 'wanted@acme.test');
    expect(created.body.ownerId).toBe(wanted.userId);

    const mail = await invitationMail('wanted@acme.test');
    await people.http.get(`/v1/accounts/${created.body.id}`).set(bearer(wanted.accessToken)).expect(404);
    await eventually('access holds them inactive there', async () => (await accessReason(created.body.id, wanted.userId)) === 'inactive');

    await people.http
      .post('/v1/auth/invitation/accept')
      .send({ token: linkToken(mail, '/accept-invitation') })
      .expect(200);
    await eventually('access applies the acceptance', async () => (await accessReason(created.body.id, wanted.userId)) === 'owner');
    const account = await people.http.get(`/v1/accounts/${created.body.id}`).set(bearer(wanted.accessToken)).expect(200);
    expect(account.body).toMatchObject({ slug: 'wanted-account', ownerId: wanted.userId });
  });

  it('declining closes the account, in identity and in access; its slug is free again and their own account stays', async () => {
    const unwilling = await people.member(acme, 'unwilling@acme.test', 'Developer');
    const created = await signUpFor('unwanted-account', 'unwilling@acme.test');
    const mail = await invitationMail('unwilling@acme.test');
    // An account they never accepted is none they work in: their own account's admin still ends their sessions.
    await people.http.delete(`/v1/accounts/${acme.accountId}/users/${unwilling.userId}/sessions`).set(bearer(acme.accessToken)).expect(200, { ended: 1 });

    await people.http
      .post('/v1/auth/invitation/decline')
      .send({ token: linkToken(mail, '/accept-invitation') })
      .expect(204);

    await eventually('access drops the account', async () => (await accessReason(created.body.id, unwilling.userId)) === 'not-member');
    const again = await people.login('unwilling@acme.test');
    await people.http.get(`/v1/accounts/${created.body.id}`).set(bearer(again.accessToken)).expect(404);
    await people.http.get(`/v1/accounts/${acme.accountId}/applications`).set(bearer(again.accessToken)).expect(200);
    await signUpFor('unwanted-account', 'someone-else@unwanted.test');
  });
});
