import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import type { CheckResult, Principal } from '#libs/contracts/index.js';
import { loadCatalog } from '../catalog/catalog.loader.js';
import { AccessRepository } from '../state/access-repository.js';
import { AccessStateService } from '../state/access-state.service.js';
import { freshAccessServices } from '../state/services-harness-spec.js';
import { BUILTIN_ROLE_PREFIX, DecisionStore } from './decision-store.js';
import { ChecksService } from './checks.service.js';

const access = freshAccessServices();

/**
 * Another replica on the same database that has not heard the latest `access.changed` (in a NATS
 * cluster the broadcast can reach it after a question sent by another route): loaded, then cut
 * from the broadcasts, its re-sync a minute away.
 */
async function laggingReplica() {
  const store = new DecisionStore(loadCatalog('voximplant'));
  const repository = new AccessRepository(access.dataSource);
  const state = new AccessStateService(store, repository, access.dataSource, access.link, access.logger, {
    ACCESS_RESYNC_INTERVAL_MS: 60_000,
    DATABASE_POOL_SIZE: 4,
  });
  await state.onApplicationBootstrap();
  state.onModuleDestroy();
  const loads = jest.spyOn(repository, 'loadAccount');
  return {
    store,
    checks: new ChecksService(store, state),
    loads,
    reloadOnBroadcast: (accountId: string) => store.refresh(accountId, () => repository.loadAccount(accountId)),
  };
}

describe('a check that names the account version its asker heard of (atLeastVersion)', () => {
  it('is decided on that version by a replica that has not heard of it yet, and without it on what the replica holds', async () => {
    const { accountId } = await access.account();
    const bob: Principal = { type: 'user', id: randomUUID() };
    const lagging = await laggingReplica();
    await access.bind(accountId, bob, `${BUILTIN_ROLE_PREFIX}Admin`);
    const heard = access.store.versionOf(accountId);
    const question = { principal: bob, accountId, section: 'scenarios', action: 'write' };

    expect(lagging.store.versionOf(accountId)).toBeLessThan(heard);
    expect(await lagging.checks.check(question)).toEqual({ allowed: false, reason: 'not-member' });
    expect(await lagging.checks.check({ ...question, atLeastVersion: heard })).toEqual({ allowed: true, reason: 'granted' });
    expect(lagging.store.versionOf(accountId)).toBe(heard);
  });

  it('in a batch, reloads each account named with a newer version before deciding', async () => {
    const first = await access.account();
    const second = await access.account();
    const bob: Principal = { type: 'user', id: randomUUID() };
    const lagging = await laggingReplica();
    await access.bind(first.accountId, bob, `${BUILTIN_ROLE_PREFIX}Admin`);
    await access.bind(second.accountId, bob, `${BUILTIN_ROLE_PREFIX}Admin`);
    const checks = [first, second].map(({ accountId }) => ({ principal: bob, accountId, section: 'scenarios', action: 'read' }));

    expect(await lagging.checks.checkBatch(checks)).toEqual([
      { allowed: false, reason: 'not-member' },
      { allowed: false, reason: 'not-member' },
    ]);
    const heard = [first, second].map(({ accountId }) => access.store.versionOf(accountId));
    expect(await lagging.checks.checkBatch(checks.map((check, index) => ({ ...check, atLeastVersion: heard[index] })))).toEqual([
      { allowed: true, reason: 'granted' },
      { allowed: true, reason: 'granted' },
    ]);
  });

  it('reloads once for a version the database does not hold (a bogus one), however many checks name it', async () => {
    const { accountId, actor: owner } = await access.account();
    const lagging = await laggingReplica();
    const bogus = access.store.versionOf(accountId) + 1_000_000_000;
    const question = { principal: owner, accountId, section: 'scenarios', action: 'write', atLeastVersion: bogus };

    const answers: CheckResult[] = await Promise.all(Array.from({ length: 5 }, () => Promise.resolve(lagging.checks.check(question))));
    answers.push(await lagging.checks.check(question));

    expect(answers).toEqual(Array.from({ length: 6 }, () => ({ allowed: true, reason: 'owner' })));
    expect(lagging.loads).toHaveBeenCalledTimes(1);
  });

  it("waits for the reload under way (the broadcast's) rather than queueing one more, when that one reaches the version", async () => {
    const { accountId } = await access.account();
    const bob: Principal = { type: 'user', id: randomUUID() };
    const lagging = await laggingReplica();
    await access.bind(accountId, bob, `${BUILTIN_ROLE_PREFIX}Admin`);
    const question = { principal: bob, accountId, section: 'scenarios', action: 'write', atLeastVersion: access.store.versionOf(accountId) };

    const broadcastsReload = lagging.reloadOnBroadcast(accountId);
    const answers = await Promise.all(Array.from({ length: 3 }, () => Promise.resolve(lagging.checks.check(question))));
    await broadcastsReload;

    expect(answers).toEqual(Array.from({ length: 3 }, () => ({ allowed: true, reason: 'granted' })));
    expect(lagging.loads).toHaveBeenCalledTimes(1);
  });

  it('still catches up to a real version below one found not reached (a bogus one, a lost commit)', async () => {
    const { accountId } = await access.account();
    const bob: Principal = { type: 'user', id: randomUUID() };
    const lagging = await laggingReplica();
    const question = { principal: bob, accountId, section: 'scenarios', action: 'write' };
    await lagging.checks.check({ ...question, atLeastVersion: access.store.versionOf(accountId) + 1_000_000_000_000 });

    await access.bind(accountId, bob, `${BUILTIN_ROLE_PREFIX}Admin`);

    expect(await lagging.checks.check({ ...question, atLeastVersion: access.store.versionOf(accountId) })).toEqual({ allowed: true, reason: 'granted' });
  });

  it('does not reload when the replica holds that version already', async () => {
    const { accountId, actor: owner } = await access.account();
    const lagging = await laggingReplica();
    const held = lagging.store.versionOf(accountId);

    expect(await lagging.checks.check({ principal: owner, accountId, section: 'scenarios', action: 'read', atLeastVersion: held })).toMatchObject({
      allowed: true,
    });
    expect(lagging.loads).not.toHaveBeenCalled();
  });
});
