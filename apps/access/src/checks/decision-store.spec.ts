import type { Principal } from '#libs/contracts/index.js';
import type { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { BindingsService } from '../bindings/bindings.service.js';
import { loadCatalog } from '../catalog/catalog.loader.js';
import type { AccessStateService } from '../state/access-state.service.js';
import { BUILTIN_ROLE_PREFIX, DecisionStore, MAX_REMEMBERED_ANSWERS, type AccountSnapshot } from './decision-store.js';
import { ChecksService } from './checks.service.js';
import { hasBit } from './permission-index.js';

const ACCOUNT = '00000000-0000-4000-8000-00000000000a';
const APP = '00000000-0000-4000-8000-0000000000a1';
const FOREIGN_APP = '00000000-0000-4000-8000-0000000000f1';
const OWNER = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000001' };
const SUB = { type: 'subuser' as const, id: '00000000-0000-4000-8000-000000000002' };

/** The account at `version`, SUB holding `role` everywhere (or nothing). */
function snapshot(version: number, role?: string): AccountSnapshot {
  return {
    accountId: ACCOUNT,
    version,
    ownerId: OWNER.id,
    roles: [],
    bindings: role ? [{ principalType: 'subuser', principalId: SUB.id, roleId: BUILTIN_ROLE_PREFIX + role, applicationIds: null }] : [],
    applications: [{ id: APP, name: 'A' }],
    inactive: [],
  };
}

const billingWrite = (store: DecisionStore) => store.whenCurrent(ACCOUNT, () => store.decide(SUB, ACCOUNT, 'billing', 'write').allowed);

describe('keeping the decision store current', () => {
  let store: DecisionStore;
  beforeEach(() => {
    store = new DecisionStore(loadCatalog('voximplant'));
  });

  it('never replaces a newer version of an account with an older one (a slow full load after a quick reload)', () => {
    expect(store.replaceAccount(snapshot(2, 'Accountant'))).toBe(true);
    expect(store.replaceAccount(snapshot(1))).toBe(false);
    expect(billingWrite(store)).toBe(true);
    expect(store.versionOf(ACCOUNT)).toBe(2);
  });

  it('runs the next reload after one that failed, and decides on what it loaded', async () => {
    store.replaceAccount(snapshot(1, 'Accountant'));
    const failed = store.refresh(ACCOUNT, () => Promise.reject(new Error('database cut')));
    const next = store.refresh(ACCOUNT, () => Promise.resolve(snapshot(2)));
    await expect(failed).rejects.toThrow('database cut');
    await next;
    expect(await billingWrite(store)).toBe(false);
  });

  it('refuses (503) to decide on an account whose reload failed, until one succeeds', async () => {
    store.replaceAccount(snapshot(1, 'Accountant'));
    await store.refresh(ACCOUNT, () => Promise.reject(new Error('database cut'))).catch(() => undefined);
    expect(store.staleAccounts()).toEqual([ACCOUNT]);
    expect(() => billingWrite(store)).toThrow(expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }));
    await store.refresh(ACCOUNT, () => Promise.resolve(snapshot(2, 'Accountant')));
    expect(store.staleAccounts()).toEqual([]);
    expect(billingWrite(store)).toBe(true);
  });

  it('makes a check that waits on a failing reload answer 503, not the database error', async () => {
    store.replaceAccount(snapshot(1, 'Accountant'));
    let fail: (error: Error) => void = () => undefined;
    void store.refresh(ACCOUNT, () => new Promise((_resolve, reject) => (fail = reject))).catch(() => undefined);
    const waiting = billingWrite(store);
    await new Promise((resolve) => setImmediate(resolve)); // the reload has started
    fail(new Error('database cut'));
    await expect(waiting).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });

  it("does not grant the owner anything in another account's application", () => {
    store.replaceAccount(snapshot(1));
    expect(store.decide(OWNER, ACCOUNT, 'scenarios', 'delete', APP)).toEqual({ allowed: true, reason: 'owner' });
    expect(store.decide(OWNER, ACCOUNT, 'scenarios', 'delete', FOREIGN_APP)).toEqual({ allowed: false, reason: 'not-granted' });
  });
});

describe('the holders of a role', () => {
  it('names every principal holding it, users and subusers, and counts them', () => {
    const store = new DecisionStore(loadCatalog('voximplant'));
    const user = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000003' };
    const state = snapshot(1, 'Support');
    state.bindings.push(
      { principalType: 'user', principalId: user.id, roleId: `${BUILTIN_ROLE_PREFIX}Admin`, applicationIds: null },
      { principalType: 'user', principalId: user.id, roleId: `${BUILTIN_ROLE_PREFIX}Support`, applicationIds: [APP] },
    );
    store.replaceAccount(state);
    expect(store.holders(ACCOUNT, `${BUILTIN_ROLE_PREFIX}Support`)).toEqual([SUB, user]);
    expect(store.holdersOf(ACCOUNT, `${BUILTIN_ROLE_PREFIX}Support`)).toBe(2);
    expect(store.holders(ACCOUNT, `${BUILTIN_ROLE_PREFIX}Admin`)).toEqual([user]);
    expect(store.holders(ACCOUNT, `${BUILTIN_ROLE_PREFIX}Developer`)).toEqual([]);
    expect(store.holders('00000000-0000-4000-8000-00000000000b', `${BUILTIN_ROLE_PREFIX}Support`)).toEqual([]);
  });
});

describe('the roles of an account', () => {
  it("are found by a custom role's id in either case, and by name with case ignored", () => {
    const store = new DecisionStore(loadCatalog('voximplant'));
    const id = '00000000-0000-4000-8000-0000000000c1';
    store.replaceAccount({ ...snapshot(1), roles: [{ id, name: 'Night shift', description: null, grants: { logs: ['read'] } }] });
    expect(store.role(ACCOUNT, id.toUpperCase())?.id).toBe(id);
    expect(store.role(ACCOUNT, 'NIGHT SHIFT')?.id).toBe(id);
  });

  it('are found by a name as written first, and by one in another case only when one role is so named (never one of two at random)', () => {
    const store = new DecisionStore(loadCatalog('voximplant'));
    const [summer, summerLower] = ['00000000-0000-4000-8000-0000000000c2', '00000000-0000-4000-8000-0000000000c3'];
    // Two names that differ in the case of a letter beyond ASCII: distinct under a database locale that folds ASCII only.
    const role = (id: string, name: string) => ({ id, name, description: null, grants: { logs: ['read'] } });
    store.replaceAccount({ ...snapshot(1), roles: [role(summer, 'Été'), role(summerLower, 'été')] });
    expect(store.role(ACCOUNT, 'Été')?.id).toBe(summer);
    expect(store.role(ACCOUNT, 'été')?.id).toBe(summerLower);
    expect(store.role(ACCOUNT, 'ÉTÉ')).toBeUndefined();
  });
});

describe('answers remembered per account state', () => {
  let store: DecisionStore;
  let writes: number;
  const remembered = (key = 'k') =>
    store.remembered(ACCOUNT, key, () => {
      writes += 1;
      return { written: writes };
    });
  beforeEach(() => {
    store = new DecisionStore(loadCatalog('voximplant'));
    writes = 0;
  });

  it('writes an answer once per state of the account, and again after every change', () => {
    store.replaceAccount(snapshot(1, 'Accountant'));
    expect(remembered()).toEqual({ written: 1 });
    expect(remembered()).toEqual({ written: 1 });
    expect(remembered('other')).toEqual({ written: 2 });
    store.replaceAccount(snapshot(2));
    expect(remembered()).toEqual({ written: 3 });
    expect(writes).toBe(3);
  });

  it('remembers nothing for an account with no state in memory', () => {
    expect(remembered()).toEqual({ written: 1 });
    expect(remembered()).toEqual({ written: 2 });
  });

  it(`keeps at most ${MAX_REMEMBERED_ANSWERS} answers over all accounts, forgetting the least recently used first`, () => {
    store.replaceAccount(snapshot(1));
    for (let i = 0; i < MAX_REMEMBERED_ANSWERS; i += 1) remembered(`key ${i}`);
    remembered('key 0');
    expect(writes).toBe(MAX_REMEMBERED_ANSWERS);
    remembered('one more');
    expect(writes).toBe(MAX_REMEMBERED_ANSWERS + 1);
    remembered('key 0');
    expect(writes).toBe(MAX_REMEMBERED_ANSWERS + 1);
    remembered('key 1');
    expect(writes).toBe(MAX_REMEMBERED_ANSWERS + 2);
  });

  it('counts the answers of every account against the same bound', () => {
    const OTHER = '00000000-0000-4000-8000-00000000000b';
    store.replaceAccount(snapshot(1));
    store.replaceAccount({ ...snapshot(1), accountId: OTHER });
    for (let i = 0; i < MAX_REMEMBERED_ANSWERS; i += 1) remembered(`key ${i}`);
    store.remembered(OTHER, 'key 0', () => 'other');
    remembered(`key ${MAX_REMEMBERED_ANSWERS - 1}`);
    expect(writes).toBe(MAX_REMEMBERED_ANSWERS);
    remembered('key 0');
    expect(writes).toBe(MAX_REMEMBERED_ANSWERS + 1);
  });

  it("answers a principal's effective permissions from the current state: a change of its roles shows at once", async () => {
    const checks = new ChecksService(store, { catchUp: () => undefined });
    const menu = async (applicationId?: string) =>
      JSON.parse((await checks.effectiveAnswer({ principal: SUB, accountId: ACCOUNT, applicationId })).json) as unknown;
    store.replaceAccount(snapshot(1, 'Accountant'));
    const asAccountant = await menu();
    expect(asAccountant).toMatchObject({ owner: false, grants: expect.arrayContaining([expect.objectContaining({ section: 'billing' })]) });
    expect(await menu()).toEqual(asAccountant);
    store.replaceAccount(snapshot(2, 'Developer'));
    const asDeveloper = await menu();
    expect(asDeveloper).not.toEqual(asAccountant);
    expect(asDeveloper).toMatchObject({ grants: expect.not.arrayContaining([expect.objectContaining({ section: 'billing' })]) });
    store.replaceAccount({
      ...snapshot(3),
      bindings: [{ principalType: 'subuser', principalId: SUB.id, roleId: `${BUILTIN_ROLE_PREFIX}Developer`, applicationIds: [APP] }],
    });
    expect(await menu()).toMatchObject({ grants: [] });
    expect(await menu(APP)).toMatchObject({ grants: expect.arrayContaining([expect.objectContaining({ section: 'scenarios' })]) });
    await expect(async () => menu(FOREIGN_APP)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('a principal deactivated in the account', () => {
  const HIGH = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000004' };
  const LOWER = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000005' };
  let store: DecisionStore;
  /** SUB (Admin) and, if asked, HIGH (MainAccount) and LOWER (Owner: manages people), with `inactive` deactivated. */
  function load(version: number, inactive: Array<{ type: string; id: string }>, people = false): void {
    const state = snapshot(version, 'Admin');
    if (people) {
      state.bindings.push(
        { principalType: 'user', principalId: HIGH.id, roleId: `${BUILTIN_ROLE_PREFIX}MainAccount`, applicationIds: null },
        { principalType: 'user', principalId: LOWER.id, roleId: `${BUILTIN_ROLE_PREFIX}Owner`, applicationIds: null },
      );
    }
    state.inactive = inactive.map(({ type, id }) => ({ principalType: type, principalId: id }));
    store.replaceAccount(state);
  }
  beforeEach(() => {
    store = new DecisionStore(loadCatalog('voximplant'));
  });

  it('is refused everything there (inactive): catalogue sections, Portico permissions, every application; reactivated, allowed again', () => {
    load(1, [SUB]);
    expect(store.decide(SUB, ACCOUNT, 'billing', 'write')).toEqual({ allowed: false, reason: 'inactive' });
    expect(store.decide(SUB, ACCOUNT, 'scenarios', 'read', APP)).toEqual({ allowed: false, reason: 'inactive' });
    expect(store.decide(SUB, ACCOUNT, 'portico.account', 'read')).toEqual({ allowed: false, reason: 'inactive' });
    expect(store.allowedApplications(SUB, ACCOUNT, 'scenarios', 'read')).toEqual({ all: false, applicationIds: [] });
    expect(() => store.decide(SUB, ACCOUNT, 'spaceships', 'fly')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => store.decide(SUB, ACCOUNT, 'portico.spaceships', 'fly')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(store.decide(OWNER, ACCOUNT, 'billing', 'write')).toEqual({ allowed: true, reason: 'owner' });
    load(2, []);
    expect(store.decide(SUB, ACCOUNT, 'billing', 'write')).toEqual({ allowed: true, reason: 'granted' });
    expect(store.allowedApplications(SUB, ACCOUNT, 'scenarios', 'read')).toEqual({ all: true, applicationIds: [APP] });
  });

  it('is refused as the owner too, should identity ever deactivate the owner (inactive wins)', () => {
    load(1, [OWNER]);
    expect(store.decide(OWNER, ACCOUNT, 'billing', 'write')).toEqual({ allowed: false, reason: 'inactive' });
    expect(store.decide(OWNER, ACCOUNT, 'portico.account', 'write')).toEqual({ allowed: false, reason: 'inactive' });
    expect(store.actingAs(OWNER, ACCOUNT)).toEqual({ owner: false, rights: undefined });
  });

  it('is only refused in that account: the same id elsewhere, or as another type of principal, is not', () => {
    const OTHER = '00000000-0000-4000-8000-00000000000b';
    load(1, [{ type: 'user', id: SUB.id }]);
    store.replaceAccount({ ...snapshot(1, 'Admin'), accountId: OTHER, inactive: [{ principalType: 'subuser', principalId: SUB.id }] });
    expect(store.decide(SUB, ACCOUNT, 'billing', 'write')).toEqual({ allowed: true, reason: 'granted' });
    expect(store.decide(SUB, OTHER, 'billing', 'write')).toEqual({ allowed: false, reason: 'inactive' });
  });

  it('gets no permissions for its menus', async () => {
    const checks = new ChecksService(store, { catchUp: () => undefined });
    const menu = async () => JSON.parse((await checks.effectiveAnswer({ principal: SUB, accountId: ACCOUNT })).json) as unknown;
    load(1, []);
    expect(await menu()).toMatchObject({ grants: expect.arrayContaining([expect.objectContaining({ section: 'billing' })]) });
    load(2, [SUB]);
    expect(await menu()).toEqual({ owner: false, grants: [], system: [] });
  });

  it('is still judged by what its bindings give when someone changes it: a lower admin may not touch an inactive higher one', async () => {
    load(1, [HIGH], true);
    expect(store.decide(HIGH, ACCOUNT, 'api_keys', 'read')).toEqual({ allowed: false, reason: 'inactive' });
    const bindings = new BindingsService(
      store,
      undefined as unknown as AccessStateService,
      undefined as unknown as OutboxWriter,
      undefined as unknown as OutboxRelay,
    );
    const rebind = (actor: Principal, principal: Principal, role: string) =>
      bindings.replace({ actor, accountId: ACCOUNT, principal, bindings: [{ role }], dryRun: true });
    await expect(rebind(LOWER, HIGH, 'Support')).rejects.toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('permissions you lack') });
    expect(hasBit(store.effective(HIGH, ACCOUNT)?.unlimited, store.index.bit('api_keys', 'read')!)).toBe(true);
    // Nor may an inactive admin change anyone: it acts as nobody in the account.
    await expect(rebind(HIGH, LOWER, 'Support')).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'You hold no role in this account' });
    load(2, [], true);
    expect(await rebind(HIGH, LOWER, 'Support')).toEqual([{ roleId: `${BUILTIN_ROLE_PREFIX}Support`, role: 'Support', applicationIds: null }]);
  });
});
