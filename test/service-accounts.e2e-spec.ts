import { eventually } from '#libs/testing/eventually.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, People, type SignedIn } from './helpers/people.js';

const system = new TestSystem();
const people = new People(system);

let acme: SignedIn;
let globex: SignedIn;

beforeAll(async () => {
  await system.start();
  acme = await people.signUp('robots-acme');
  globex = await people.signUp('robots-globex');
});
afterAll(() => system.stop());

const serviceAccounts = (owner: SignedIn) => `/v1/accounts/${owner.accountId}/service-accounts`;

/** The owner of `owner`'s account creates a service account with `roles`, and a key of it: the key's id and secret. */
async function serviceAccountWithKey(owner: SignedIn, name: string, roles: string[]): Promise<{ id: string; keyId: string; secret: string }> {
  const created = await people.http.post(serviceAccounts(owner)).set(bearer(owner.accessToken)).send({ name, roles }).expect(201);
  const key = await people.http
    .post(`${serviceAccounts(owner)}/${created.body.id}/keys`)
    .set(bearer(owner.accessToken))
    .send({})
    .expect(201);
  return { id: created.body.id, keyId: key.body.id, secret: key.body.secret };
}

function exchange(clientId: string, clientSecret: string) {
  return people.http.post('/v1/auth/token').send({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
}

describe('a service account through HTTP: created with a role, its key exchanged, its token used, its key revoked', () => {
  let robot: { id: string; keyId: string; secret: string };
  let token: string;

  it('is created by an admin with a role and a key whose secret is shown once (listed by hint alone)', async () => {
    robot = await serviceAccountWithKey(acme, 'billing-sync', ['Developer']);
    expect(robot.secret).toMatch(/^psk_/);
    const shown = await people.http
      .get(`${serviceAccounts(acme)}/${robot.id}`)
      .set(bearer(acme.accessToken))
      .expect(200);
    expect(shown.body).toMatchObject({ id: robot.id, name: 'billing-sync', roles: ['Developer'], applicationIds: null, active: true });
    const keys = await people.http
      .get(`${serviceAccounts(acme)}/${robot.id}/keys`)
      .set(bearer(acme.accessToken))
      .expect(200);
    expect(keys.body).toEqual([{ id: robot.keyId, hint: robot.secret.slice(0, 8), createdAt: expect.any(String), expiresAt: null, lastUsedAt: null }]);
  });

  it('exchanges its key for a short-lived bearer token (no refresh token): as JSON, as a form (RFC 6749), or with HTTP Basic', async () => {
    const response = await exchange(robot.keyId, robot.secret).expect(200);
    expect(response.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: expect.any(Number) });
    token = response.body.access_token;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: robot.keyId, client_secret: robot.secret }).toString();
    await people.http.post('/v1/auth/token').type('form').send(form).expect(200);
    const basic = Buffer.from(`${robot.keyId}:${robot.secret}`).toString('base64');
    await people.http
      .post('/v1/auth/token')
      .set({ authorization: `Basic ${basic}` })
      .type('form')
      .send('grant_type=client_credentials')
      .expect(200);
    // A form is read by this route alone: any other still takes JSON only.
    await people.http.post(serviceAccounts(acme)).set(bearer(acme.accessToken)).type('form').send('name=x&roles=Developer').expect(415);
  });

  it("calls a route its role permits (200), is refused one it does not (403), and finds another account's as people do (404)", async () => {
    await people.http.get(`/v1/accounts/${acme.accountId}/applications`).set(bearer(token)).expect(200);
    const refused = await people.http.get(`/v1/accounts/${acme.accountId}/subusers`).set(bearer(token)).expect(403);
    expect(refused.body).toMatchObject({ code: 'FORBIDDEN' });
    await people.http.get(`/v1/accounts/${globex.accountId}/applications`).set(bearer(token)).expect(404);
    // No person's routes: it has no profile, password or sessions of its own.
    await people.http.get('/v1/me').set(bearer(token)).expect(403);
  });

  it('once its key is revoked, is refused on the very next request (401), and the key is refused a new token', async () => {
    await people.http
      .delete(`${serviceAccounts(acme)}/${robot.id}/keys/${robot.keyId}`)
      .set(bearer(acme.accessToken))
      .expect(204);

    const refused = await people.http.get(`/v1/accounts/${acme.accountId}/applications`).set(bearer(token)).expect(401);
    expect(refused.body).toMatchObject({ code: 'UNAUTHENTICATED' });
    const again = await exchange(robot.keyId, robot.secret).expect(401);
    expect(again.body).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it("shows in the account's audit trail who made it and its key, each token issued and refused, and the revocation", async () => {
    const trail = await people.http.get(`/v1/accounts/${acme.accountId}/audit-events?limit=100`).set(bearer(acme.accessToken)).expect(200);
    const actions = (trail.body.items as Array<{ action: string; target: { id: string } | null }>)
      // Its roles.changed (access's, recorded from its event) may come at any time: identity's own events are in their order.
      .filter((event) => event.target?.id === robot.id && event.action.startsWith('service-account.'))
      .map((event) => event.action)
      .reverse();
    expect(actions).toEqual([
      'service-account.created',
      'service-account.key-created',
      'service-account.token-issued',
      'service-account.token-issued',
      'service-account.token-issued',
      'service-account.key-revoked',
      'service-account.token-refused',
    ]);
  });
});

describe('a service account deactivated or deleted', () => {
  it('is refused at once with the tokens it holds, and its keys get none; reactivated, its key works again', async () => {
    const robot = await serviceAccountWithKey(acme, 'reports', ['Developer']);
    const token = (await exchange(robot.keyId, robot.secret).expect(200)).body.access_token as string;

    await people.http
      .patch(`${serviceAccounts(acme)}/${robot.id}`)
      .set(bearer(acme.accessToken))
      .send({ active: false })
      .expect(200);
    await people.http.get(`/v1/accounts/${acme.accountId}/applications`).set(bearer(token)).expect(401);
    await exchange(robot.keyId, robot.secret).expect(401);

    await people.http
      .patch(`${serviceAccounts(acme)}/${robot.id}`)
      .set(bearer(acme.accessToken))
      .send({ active: true })
      .expect(200);
    const fresh = (await exchange(robot.keyId, robot.secret).expect(200)).body.access_token as string;
    // Access hears of the reactivation from identity's event (it refused the inactive service account everything meanwhile: 404).
    await eventually('the reactivated service account let in', async () => {
      const response = await people.http.get(`/v1/accounts/${acme.accountId}/applications`).set(bearer(fresh));
      return response.status === 200;
    });

    await people.http
      .delete(`${serviceAccounts(acme)}/${robot.id}`)
      .set(bearer(acme.accessToken))
      .expect(204);
    await people.http.get(`/v1/accounts/${acme.accountId}/applications`).set(bearer(fresh)).expect(401);
    await exchange(robot.keyId, robot.secret).expect(401);
    await people.http
      .get(`${serviceAccounts(acme)}/${robot.id}`)
      .set(bearer(acme.accessToken))
      .expect(404);
  });

  it("cannot be reached from another account's admin (404); without api_keys, it makes no key, its own neither (403)", async () => {
    const robot = await serviceAccountWithKey(acme, 'self-minded', ['Owner']);
    const token = (await exchange(robot.keyId, robot.secret).expect(200)).body.access_token as string;

    await people.http
      .get(`${serviceAccounts(acme)}/${robot.id}`)
      .set(bearer(globex.accessToken))
      .expect(404);
    await people.http.get(`/v1/accounts/${globex.accountId}/service-accounts/${robot.id}`).set(bearer(globex.accessToken)).expect(404);
    // In this catalogue api_keys is the MainAccount's alone (the owner's role, never bound): no service account manages any.
    await people.http
      .post(`${serviceAccounts(acme)}/${robot.id}/keys`)
      .set(bearer(token))
      .send({})
      .expect(403);
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const noRoles = await people.http.post(serviceAccounts(acme)).set(bearer(acme.accessToken)).send({ name: 'x', roles: [] }).expect(400);
    expect(noRoles.body.message).toMatch(/roles/);
    const noGrant = await people.http.post('/v1/auth/token').send({ grant_type: 'password', client_id: 'a', client_secret: 'b' }).expect(400);
    expect(noGrant.body.message).toMatch(/grant_type/);
    const noSecret = await people.http.post('/v1/auth/token').send({ grant_type: 'client_credentials', client_id: 'a' }).expect(400);
    expect(noSecret.body.message).toMatch(/client_secret/);
  });
});
