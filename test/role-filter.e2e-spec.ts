import pg from 'pg';
import { eventually } from '#libs/testing/eventually.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, PASSWORD, People, type SignedIn } from './helpers/people.js';

/**
 * The user table's and the subusers' `role` filter through HTTP: identity answers it from its role
 * projection, which access's events fill a moment after each change, so each step waits for the
 * filter to show the change (polling, never sleeping).
 */
const system = new TestSystem();
const people = new People(system);
let owner: SignedIn;
let other: SignedIn;

const DEVELOPER = 'builtin:Developer';
const ADMIN = 'builtin:Admin';

beforeAll(async () => {
  await system.start();
  owner = await people.signUp('role-filter');
  other = await people.signUp('role-filter-other');
}, 120_000);
afterAll(() => system.stop());

/** The ids a list shows with `?role=` (one query string, as a panel sends it). */
async function holders(list: 'users' | 'subusers', role: string, account: SignedIn = owner): Promise<string[]> {
  const response = await people.http.get(`/v1/accounts/${account.accountId}/${list}`).query({ role, limit: 100 }).set(bearer(account.accessToken)).expect(200);
  return (response.body as { items: Array<{ id: string }> }).items.map((item) => item.id);
}

/** Waits until the list filtered by `role` shows `id` (`shown`) or does not. */
function untilFiltered(list: 'users' | 'subusers', role: string, id: string, shown: boolean): Promise<void> {
  return eventually(`${id} ${shown ? 'in' : 'out of'} ${list}?role=${role}`, async () => (await holders(list, role)).includes(id) === shown);
}

describe('the role filter of the user table', () => {
  it('finds a person once a role is bound to them, and no longer once it is taken away; the owner holds no role', async () => {
    const personId = await people.invite(owner, { email: 'dev@role-filter.test', role: 'Developer' });
    await untilFiltered('users', DEVELOPER, personId, true);
    expect(await holders('users', DEVELOPER)).toEqual([personId]);
    await people.http.patch(`/v1/accounts/${owner.accountId}/users/${personId}`).set(bearer(owner.accessToken)).send({ role: 'Admin' }).expect(200);
    await untilFiltered('users', DEVELOPER, personId, false);
    await untilFiltered('users', ADMIN, personId, true);
    expect(await holders('users', `${DEVELOPER},${ADMIN}`)).toEqual([personId]);
    expect(await holders('users', ADMIN)).not.toContain(owner.userId);
  });

  it("is 400 naming role for what is not a role id; another account's role or an unknown one finds nobody", async () => {
    const refused = await people.http.get(`/v1/accounts/${owner.accountId}/users?role=Admin`).set(bearer(owner.accessToken)).expect(400);
    expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(JSON.stringify(refused.body)).toContain('role must name roles by id');
    const theirs = await people.http
      .post(`/v1/accounts/${other.accountId}/roles`)
      .set(bearer(other.accessToken))
      .send({ name: 'Theirs', grants: [] })
      .expect(201);
    expect(await holders('users', (theirs.body as { id: string }).id)).toEqual([]);
    expect(await holders('users', 'builtin:Nobody')).toEqual([]);
  });
});

describe('the role filter of the subusers', () => {
  it('finds a subuser once created with a role, and no longer once its roles change', async () => {
    const created = await people.http
      .post(`/v1/accounts/${owner.accountId}/subusers`)
      .set(bearer(owner.accessToken))
      .send({ login: 'night-desk', password: PASSWORD, roles: ['Developer'] })
      .expect(201);
    const subuserId = (created.body as { id: string }).id;
    await untilFiltered('subusers', DEVELOPER, subuserId, true);
    await people.http
      .patch(`/v1/accounts/${owner.accountId}/subusers/${subuserId}`)
      .set(bearer(owner.accessToken))
      .send({ roles: ['Support'], applicationIds: null })
      .expect(200);
    await untilFiltered('subusers', DEVELOPER, subuserId, false);
    await untilFiltered('subusers', 'builtin:Support', subuserId, true);
  });
});

describe('the backfill of the role projection (an install upgraded from a release without it)', () => {
  it('copies the roles bound before from access once identity starts again with the projection never filled: the filter finds them', async () => {
    const personId = await people.invite(owner, { email: 'before@role-filter.test', role: 'Supervisor' });
    await untilFiltered('users', 'builtin:Supervisor', personId, true);
    // As an install of the release before is: bindings in access, nothing in identity's projection, never filled.
    await system.stopService('identity');
    const database = new pg.Client({ connectionString: system.database.url });
    await database.connect();
    await database.query(
      'DELETE FROM identity.role_holdings; DELETE FROM identity.role_holding_versions; UPDATE identity.role_projection_backfill SET filled_at = NULL',
    );
    await database.end();
    system.startService('identity');
    await system.waitUntil();
    const users = `/v1/accounts/${owner.accountId}/users`;
    await eventually('identity to answer again', async () => (await people.http.get(users).set(bearer(owner.accessToken))).status === 200);
    await untilFiltered('users', 'builtin:Supervisor', personId, true);
    const checking = new pg.Client({ connectionString: system.database.url });
    await checking.connect();
    const { rows } = await checking.query<{ filled: boolean }>('SELECT filled_at IS NOT NULL AS filled FROM identity.role_projection_backfill');
    await checking.end();
    expect(rows).toEqual([{ filled: true }]);
  });
});
