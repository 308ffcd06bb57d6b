import { randomUUID } from 'node:crypto';
import type { Principal } from '#libs/contracts/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { loadCatalog } from '../catalog/catalog.loader.js';
import { DecisionStore } from '../checks/decision-store.js';
import { AccessRepository } from './access-repository.js';
import { AccessStateService } from './access-state.service.js';
import { freshAccessServices } from './services-harness-spec.js';

const access = freshAccessServices();

/** Another access replica on the same database and NATS. */
function replica() {
  const store = new DecisionStore(loadCatalog('voximplant'));
  const state = new AccessStateService(store, new AccessRepository(access.dataSource), access.dataSource, access.link, access.logger, {
    ACCESS_RESYNC_INTERVAL_MS: 60_000,
    DATABASE_POOL_SIZE: 4,
  });
  return { store, state };
}

describe('a database that lost its last commits (a failover to an asynchronous standby, a restore)', () => {
  it('judges the next change of the account on what the database holds, and every replica hears that change as newer', async () => {
    const { accountId, actor: owner } = await access.account();
    const bob: Principal = { type: 'user', id: randomUUID() };
    const carol: Principal = { type: 'user', id: randomUUID() };
    const other = replica();
    await other.state.onApplicationBootstrap();
    try {
      await access.bindings.replace({ actor: owner, accountId, principal: bob, bindings: [{ role: 'Admin' }] });
      const lost = access.store.versionOf(accountId);
      await eventually('the other replica holds Bob as Admin', () => other.store.versionOf(accountId) === lost);
      // The database loses that commit: Bob unbound, the version of before.
      await access.database.query(`DELETE FROM access.bindings WHERE account_id = $1 AND principal_id = $2`, [accountId, bob.id]);
      await access.database.query(`UPDATE access.account_versions SET version = version - 1 WHERE account_id = $1`, [accountId]);

      // Bob, nobody in the database, is refused: the change is judged on the database, not on the memory of the lost commit.
      const byBob = access.bindings.replace({ actor: bob, accountId, principal: carol, bindings: [{ role: 'Developer' }] });
      await expect(byBob).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(await access.database.query(`SELECT 1 FROM access.bindings WHERE account_id = $1 AND principal_id = $2`, [accountId, carol.id])).toEqual([]);

      // The owner's next change takes a version above the lost one: the other replica reloads, and drops Bob.
      await access.bindings.replace({ actor: owner, accountId, principal: carol, bindings: [{ role: 'Developer' }] });
      expect(access.store.versionOf(accountId)).toBeGreaterThan(lost);
      await eventually('the other replica reloaded the account', () => other.store.versionOf(accountId) === access.store.versionOf(accountId));
      for (const store of [access.store, other.store]) {
        expect(store.decide(bob, accountId, 'scenarios', 'write').allowed).toBe(false);
        expect(store.decide(carol, accountId, 'scenarios', 'read').allowed).toBe(true);
      }
    } finally {
      other.state.onModuleDestroy();
    }
  });
});
