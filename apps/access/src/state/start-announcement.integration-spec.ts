import { randomUUID } from 'node:crypto';
import { ACCESS_CHANGED, type AccessChangedEvent, type Principal } from '#libs/contracts/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { BindingEntity } from '../bindings/binding.entity.js';
import { loadCatalog } from '../catalog/catalog.loader.js';
import { DecisionStore } from '../checks/decision-store.js';
import { AccessRepository } from './access-repository.js';
import { AccessStateService } from './access-state.service.js';
import { freshAccessServices } from './services-harness-spec.js';

const access = freshAccessServices();

describe('a replica that starts after a writer died between its commit and its broadcast', () => {
  it('tells the gateways of the accounts changed within their cache lifetime before it loaded, as no re-sync would', async () => {
    const { accountId } = await access.account();
    const mallory: Principal = { type: 'user', id: randomUUID() };
    await access.bind(accountId, mallory, 'builtin:Admin');
    const heard: AccessChangedEvent[] = [];
    const subscription = access.link.connection.subscribe(ACCESS_CHANGED, {
      callback: (_error, message) => void heard.push(message.json<AccessChangedEvent>()),
    });
    const repository = new AccessRepository(access.dataSource);
    // The writer that dies: its unbinding commits, its broadcast never leaves.
    const version = await access.dataSource.transaction(async (manager) => {
      await manager.delete(BindingEntity, { accountId, principalId: mallory.id });
      return repository.bumpVersion(manager, accountId);
    });
    const store = new DecisionStore(loadCatalog('voximplant'));
    const replacement = new AccessStateService(store, repository, access.dataSource, access.link, access.logger, {
      ACCESS_RESYNC_INTERVAL_MS: 60_000,
      DATABASE_POOL_SIZE: 4,
    });
    try {
      await replacement.onApplicationBootstrap();
      expect(store.decide(mallory, accountId, 'scenarios', 'write').allowed).toBe(false);
      await eventually('the broadcast of the account', () => heard.some((event) => event.accountId === accountId && event.version === version));
    } finally {
      replacement.onModuleDestroy();
      subscription.unsubscribe();
    }
  });
});
