import { loadCatalog } from '../catalog/catalog.loader.js';
import { BUILTIN_ROLE_PREFIX, DecisionStore, type AccountSnapshot } from './decision-store.js';

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
