import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Principal } from '#libs/contracts/index.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { processMetrics } from '#libs/platform/metrics.js';
import { BindingsService } from '../bindings/bindings.service.js';
import { loadCatalog } from '../catalog/catalog.loader.js';
import { DecisionStore, type AccountSnapshot } from '../checks/decision-store.js';
import { RolesService } from '../roles/roles.service.js';
import { AccessRepository } from './access-repository.js';
import { AccessStateService } from './access-state.service.js';
import { AccessStateGauges } from './access-metrics.js';
import { freshAccessServices } from './services-harness-spec.js';

const access = freshAccessServices();
const client = { ip: '203.0.113.12' };

/** PostgreSQL as a replica sees it while it restarts between a change's commit and the reload after it. */
class ReloadFailingRepository extends AccessRepository {
  failing = false;

  override loadAccount(accountId: string, manager?: EntityManager): Promise<AccountSnapshot> {
    // Inside a change's transaction (`manager`) the database answered; the reload after its commit does not.
    if (this.failing && !manager) return Promise.reject(new Error('the database system is starting up'));
    return super.loadAccount(accountId, manager);
  }
}

let repository: ReloadFailingRepository;
/** The memory of this replica: another than the harness's, whose replica reloads on the broadcasts of this one. */
let store: DecisionStore;
let roles: RolesService;
let bindings: BindingsService;

beforeAll(() => {
  repository = new ReloadFailingRepository(access.dataSource);
  store = new DecisionStore(loadCatalog('voximplant'));
  // Never started: a change loads its account into this memory in its transaction.
  const state = new AccessStateService(store, repository, access.dataSource, access.link, access.logger, {
    ACCESS_RESYNC_INTERVAL_MS: 60_000,
    DATABASE_POOL_SIZE: 4,
  });
  roles = new RolesService(store, state, new OutboxWriter(), new OutboxRelay(access.dataSource, access.link, access.logger), {
    ACCESS_MAX_CUSTOM_ROLES: 500,
  });
  bindings = new BindingsService(store, state, new OutboxWriter(), new OutboxRelay(access.dataSource, access.link, access.logger));
});

afterEach(() => (repository.failing = false));

describe('a change committed while the reload after it fails', () => {
  it('is answered with what it committed (a role created, renamed; bindings replaced), not a 500 nor the data of before; reads answer 503 until a reload succeeds', async () => {
    const { accountId, actor: owner } = await access.account();
    const member: Principal = { type: 'subuser', id: randomUUID() };
    repository.failing = true;

    const grants = [{ section: 'logs', actions: ['read'] }];
    const created = await roles.create({ actor: owner, accountId, client, body: { name: 'Night shift', grants } });
    expect(created).toMatchObject({ name: 'Night shift', description: null, builtin: false, grants, holders: 0 });
    const renamed = await roles.update({ actor: owner, accountId, client, roleId: created.id, body: { name: 'Late shift', description: 'After 22:00' } });
    expect(renamed).toEqual({ ...created, name: 'Late shift', description: 'After 22:00' });
    const bound = await bindings.replace({ actor: owner, accountId, principal: member, bindings: [{ role: created.id }, { role: 'Support' }] });
    expect(bound).toEqual([
      { roleId: created.id, role: 'Late shift', applicationIds: null },
      { roleId: 'builtin:Support', role: 'Support', applicationIds: null },
    ]);

    expect(() => roles.list({ actor: owner, accountId })).toThrow(expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }));
    // What an operator sees meanwhile: one account refusing checks on this replica.
    const gauges = new AccessStateGauges(store);
    gauges.onApplicationBootstrap();
    const stale = async () => (await processMetrics.getSingleMetric('portico_access_stale_accounts')!.get()).values[0]?.value;
    try {
      expect(await stale()).toBe(1);
      repository.failing = false;
      await store.refresh(accountId, () => repository.loadAccount(accountId));
      expect(await stale()).toBe(0);
    } finally {
      gauges.onModuleDestroy();
    }
    expect((await roles.list({ actor: owner, accountId })).find((role) => role.id === created.id)).toEqual({ ...renamed, holders: 1 });
  });
});
