import request from 'supertest';
import { authenticatorCode } from '#libs/testing/authenticator.js';
import { freePort } from '#libs/testing/nats-server.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, PASSWORD, People, type SignedIn } from './helpers/people.js';

const system = new TestSystem();
const people = new People(system);
const SUBUSER_PASSWORD = 'front desk passphrase two';
let owner: SignedIn;
let admin: SignedIn;
let secondGateway: string;
/** The recovery codes of the subuser desk-1, once it has turned two-step sign-in on. */
let deskRecoveryCodes: string[] = [];

beforeAll(async () => {
  await system.start();
  owner = await people.signUp('strict-voice');
  admin = await people.member(owner, 'admin@strict-voice.test', 'Owner');
  secondGateway = await system.startGateway('gateway#2', await freePort());
});
afterAll(() => system.stop());

type Pair = { accessToken: string; refreshToken: string };

/** Turns two-step sign-in on in the session of `pair` (password, then the app's first code) and refreshes it: the new pair, and the recovery codes. */
async function turnOnTwoStep(pair: Pair, password = PASSWORD): Promise<Pair & { recoveryCodes: string[] }> {
  const started = await people.http.post('/v1/me/mfa/totp').set(bearer(pair.accessToken)).send({ currentPassword: password }).expect(200);
  const code = authenticatorCode((started.body as { secret: string }).secret);
  const confirmed = await people.http.post('/v1/me/mfa/totp/confirm').set(bearer(pair.accessToken)).send({ code }).expect(200);
  const refreshed = (await people.http.post('/v1/auth/refresh').send({ refreshToken: pair.refreshToken }).expect(200)).body as Pair;
  return { ...refreshed, recoveryCodes: (confirmed.body as { recoveryCodes: string[] }).recoveryCodes };
}

/** The status of `path` with `accessToken` on each gateway replica. */
async function onBothGateways(path: string, accessToken: string): Promise<Array<{ status: number; code?: string }>> {
  return Promise.all(
    [system.url, secondGateway].map(async (url) => {
      const response = await request(url).get(path).set(bearer(accessToken));
      return { status: response.status, ...((response.body as { code?: string }).code && { code: (response.body as { code: string }).code }) };
    }),
  );
}

const requireSecondStep = (accessToken: string, on: boolean) =>
  people.http.patch(`/v1/accounts/${owner.accountId}`).set(bearer(accessToken)).send({ requireSecondStep: on });

const refused = { status: 403, code: 'SECOND_STEP_REQUIRED' };

describe('an account that requires two-step sign-in, through HTTP', () => {
  it('can be made so only from a session that passed a second step (the one that turns it on counts)', async () => {
    const first = await requireSecondStep(owner.accessToken, true).expect(403);
    expect(first.body).toMatchObject({ code: 'SECOND_STEP_REQUIRED', message: expect.stringContaining('/v1/me/mfa/totp') });
    owner = { ...owner, ...(await turnOnTwoStep(owner)) };
    const second = await requireSecondStep(owner.accessToken, true).expect(200);
    expect(second.body).toMatchObject({ id: owner.accountId, requireSecondStep: true });
  });

  it('refuses at once, on every gateway, a session opened with a password alone; its holder still reaches /v1/me to turn it on', async () => {
    const users = `/v1/accounts/${owner.accountId}/users`;
    expect(await onBothGateways(users, admin.accessToken)).toEqual([refused, refused]);
    const me = await people.http.get('/v1/me').set(bearer(admin.accessToken)).expect(200);
    expect(me.body.memberships).toEqual([expect.objectContaining({ accountId: owner.accountId, requireSecondStep: true })]);

    const table = await people.http.get(users).set(bearer(owner.accessToken)).expect(200);
    const mfa = Object.fromEntries((table.body.items as Array<{ email: string; mfaEnabled: boolean }>).map((item) => [item.email, item.mfaEnabled]));
    expect(mfa).toEqual({ [owner.email]: true, [admin.email]: false });

    admin = { ...admin, ...(await turnOnTwoStep(admin)) };
    expect(await onBothGateways(users, admin.accessToken)).toEqual([{ status: 200 }, { status: 200 }]);
  });

  it('applies to subusers, whose login page signs them in as before', async () => {
    await people.http
      .post(`/v1/accounts/${owner.accountId}/subusers`)
      .set(bearer(owner.accessToken))
      .send({ login: 'desk-1', password: SUBUSER_PASSWORD, roles: ['Admin'] })
      .expect(201);
    const signIn = await people.http.post('/v1/auth/subuser-login').send({ account: 'strict-voice', login: 'desk-1', password: SUBUSER_PASSWORD }).expect(200);
    const subuser = signIn.body as Pair;
    expect(await onBothGateways(`/v1/accounts/${owner.accountId}`, subuser.accessToken)).toEqual([refused, refused]);
    const twoSteps = await turnOnTwoStep(subuser, SUBUSER_PASSWORD);
    deskRecoveryCodes = twoSteps.recoveryCodes;
    expect(await onBothGateways(`/v1/accounts/${owner.accountId}`, twoSteps.accessToken)).toEqual([{ status: 200 }, { status: 200 }]);
  });

  it('answers someone from another account 404, as before: whether an account requires it is not told to outsiders', async () => {
    const outsider = await people.signUp('lax-voice');
    expect(await onBothGateways(`/v1/accounts/${owner.accountId}/users`, outsider.accessToken)).toEqual([
      { status: 404, code: 'NOT_FOUND' },
      { status: 404, code: 'NOT_FOUND' },
    ]);
  });

  it('refuses at once, on every gateway, the tokens a session holds from before its login turned two-step sign-in off (or had it reset)', async () => {
    const account = `/v1/accounts/${owner.accountId}`;
    const member = await people.member(owner, 'editor@strict-voice.test', 'Admin');
    const twoSteps = await turnOnTwoStep(member);
    expect(await onBothGateways(account, twoSteps.accessToken)).toEqual([{ status: 200 }, { status: 200 }]);
    await people.http
      .post('/v1/me/mfa/disable')
      .set(bearer(twoSteps.accessToken))
      .send({ currentPassword: PASSWORD, code: twoSteps.recoveryCodes[0] })
      .expect(204);
    expect(await onBothGateways(account, twoSteps.accessToken)).toEqual([refused, refused]);
    await people.http.get('/v1/me').set(bearer(twoSteps.accessToken)).expect(200);
    const thirdGateway = await system.startGateway('gateway#3', await freePort());
    const later = await request(thirdGateway).get(account).set(bearer(twoSteps.accessToken));
    expect({ status: later.status, code: (later.body as { code?: string }).code }).toEqual(refused);
    // Turned on again from that session (its first code checked): its tokens count again at once, on every gateway.
    const again = await turnOnTwoStep(twoSteps);
    expect(await onBothGateways(account, again.accessToken)).toEqual([{ status: 200 }, { status: 200 }]);
    expect((await request(thirdGateway).get(account).set(bearer(again.accessToken))).status).toBe(200);

    const signIn = await people.http.post('/v1/auth/subuser-login').send({ account: 'strict-voice', login: 'desk-1', password: SUBUSER_PASSWORD }).expect(200);
    const challenge = (signIn.body as { challenge: string }).challenge;
    const subuser = await people.http.post('/v1/auth/mfa').send({ challenge, code: deskRecoveryCodes[0] }).expect(200);
    const subuserToken = (subuser.body as Pair).accessToken;
    expect(await onBothGateways(account, subuserToken)).toEqual([{ status: 200 }, { status: 200 }]);
    const subusers = await people.http.get(`${account}/subusers`).set(bearer(owner.accessToken)).expect(200);
    const desk = (subusers.body.items as Array<{ id: string; login: string }>).find((item) => item.login === 'desk-1')!;
    await people.http.delete(`${account}/subusers/${desk.id}/mfa`).set(bearer(owner.accessToken)).expect(204);
    expect(await onBothGateways(account, subuserToken)).toEqual([refused, refused]);
  });

  it('no longer required, lets in a session opened with a password alone, on every gateway', async () => {
    const member = await people.member(owner, 'viewer@strict-voice.test', 'Admin');
    expect(await onBothGateways(`/v1/accounts/${owner.accountId}`, member.accessToken)).toEqual([refused, refused]);
    await requireSecondStep(owner.accessToken, false).expect(200);
    expect(await onBothGateways(`/v1/accounts/${owner.accountId}`, member.accessToken)).toEqual([{ status: 200 }, { status: 200 }]);
    const events = await people.http.get(`/v1/accounts/${owner.accountId}/audit-events`).set(bearer(owner.accessToken)).expect(200);
    const changes = (events.body.items as Array<{ action: string; details: { requireSecondStep?: boolean } }>)
      .filter((event) => event.action === 'account.updated')
      .map((event) => event.details.requireSecondStep);
    expect(changes.sort()).toEqual([false, true]);
  });
});
