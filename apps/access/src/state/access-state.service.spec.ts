import { jest } from '@jest/globals';
import { pino } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { ACCESS_CHANGED, DECISION_CACHE_LIFETIME_MS, type AccessChangedEvent } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { NatsLink } from '#libs/platform/index.js';
import { loadCatalog } from '../catalog/catalog.loader.js';
import { DecisionStore, type AccountSnapshot } from '../checks/decision-store.js';
import type { AccessRepository } from './access-repository.js';
import { AccessStateService } from './access-state.service.js';
import { accessMetrics } from './access-metrics.js';

const ACCOUNT = '00000000-0000-4000-8000-00000000000a';
const OTHER = '00000000-0000-4000-8000-00000000000b';
/** The manager every fake transaction hands out (loads inside a transaction are told apart by it). */
const MANAGER = { fake: 'entity manager' } as unknown as EntityManager;
/** The database's clock at the first load. */
const T0 = new Date('2030-01-01T00:00:00Z');
/** How far back a re-sync looks before the previous one (RESYNC_OVERLAP_MS). */
const OVERLAP_MS = 60_000;

/** An empty account at `version`. */
function snapshot(version: number, accountId = ACCOUNT): AccountSnapshot {
  return { accountId, version, ownerId: null, roles: [], bindings: [], applications: [], inactive: [] };
}

/** A promise the test settles. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

/** Lets every promise chain that needs no timer run to its end. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A repository over `versions` (each account's committed version: PostgreSQL, shared by the replicas of a test). */
function fakeRepository(versions: Map<string, number>) {
  const committed = (accountId: string) => versions.get(accountId) ?? 0;
  return {
    loadAccount: jest.fn<AccessRepository['loadAccount']>((accountId) => Promise.resolve(snapshot(committed(accountId), accountId))),
    versionOf: jest.fn<AccessRepository['versionOf']>((_manager, accountId) => Promise.resolve(committed(accountId))),
    bumpVersion: jest.fn<AccessRepository['bumpVersion']>((_manager, accountId) => {
      versions.set(accountId, committed(accountId) + 1);
      return Promise.resolve(committed(accountId));
    }),
    lockAccount: jest.fn<AccessRepository['lockAccount']>(() => Promise.resolve()),
    changedSince: jest.fn<AccessRepository['changedSince']>(() =>
      Promise.resolve({ polledAt: new Date(), changes: [...versions].map(([accountId, version]) => ({ accountId, version })) }),
    ),
    clock: jest.fn<AccessRepository['clock']>(() => Promise.resolve(T0)),
    loadAll: jest.fn<AccessRepository['loadAll']>(() => Promise.resolve([...versions].map(([accountId, version]) => snapshot(version, accountId)))),
  };
}

const services: AccessStateService[] = [];

/** One replica: the service over its own store, repository, data source and NATS link (all fakes). */
function replica(versions = new Map<string, number>(), poolSize = 10) {
  const store = new DecisionStore(loadCatalog('voximplant'));
  const repository = fakeRepository(versions);
  const transaction = jest.fn((work: (manager: EntityManager) => Promise<unknown>) => work(MANAGER));
  const published: Array<AccessChangedEvent & { subject: string }> = [];
  let onMessage: (error: Error | null, message: { string(): string }) => void = () => undefined;
  let onReconnect: () => void = () => undefined;
  const connection = {
    publish: (subject: string, data: string) => published.push({ subject, ...(JSON.parse(data) as AccessChangedEvent) }),
    subscribe: (_subject: string, options: { callback: typeof onMessage }) => {
      onMessage = options.callback;
      return { unsubscribe: () => undefined };
    },
    flush: () => Promise.resolve(),
  };
  const link = { connection, onReconnect: (listener: () => void) => ((onReconnect = listener), () => undefined) };
  const service = new AccessStateService(
    store,
    repository as unknown as AccessRepository,
    { transaction } as unknown as DataSource,
    link as unknown as NatsLink,
    pino({ level: 'silent' }),
    { ACCESS_RESYNC_INTERVAL_MS: 1000, DATABASE_POOL_SIZE: poolSize },
  );
  services.push(service);
  // What the start announces (the accounts changed just before it) is kept apart from what the tests look at.
  const announced: typeof published = [];
  const start = service.onApplicationBootstrap.bind(service);
  service.onApplicationBootstrap = async () => {
    await start();
    announced.push(...published.splice(0));
  };
  return {
    service,
    store,
    repository,
    transaction,
    published,
    announced,
    /** Hands the replica an `access.changed` message. */
    deliver: (event: unknown) => onMessage(null, { string: () => JSON.stringify(event) }),
    reconnect: () => onReconnect(),
  };
}

/** The loads of an account made inside a change's transaction. */
const loadsInTransaction = (repository: ReturnType<typeof fakeRepository>) => repository.loadAccount.mock.calls.filter(([, manager]) => manager === MANAGER);

afterEach(() => {
  for (const service of services.splice(0)) service.onModuleDestroy();
  jest.useRealTimers();
});

describe('a change of an account (mutate)', () => {
  it('broadcasts the version bumpVersion committed, even when the reload after the commit fails', async () => {
    const writer = replica(new Map([[ACCOUNT, 1]]));
    writer.store.replaceAccount(snapshot(1));
    writer.repository.bumpVersion.mockResolvedValueOnce(7);
    writer.repository.loadAccount.mockRejectedValue(new Error('database cut'));

    await expect(writer.service.mutate(ACCOUNT, () => Promise.resolve('done'), OTHER)).resolves.toBe('done');

    expect(writer.published).toEqual([{ subject: ACCESS_CHANGED, accountId: ACCOUNT, version: 7, principalId: OTHER }]);
    expect(writer.store.staleAccounts()).toEqual([ACCOUNT]);
  });

  it('makes a replica behind the broadcast version reload, and one holding it not', async () => {
    const versions = new Map([[ACCOUNT, 1]]);
    const writer = replica(versions);
    const behind = replica(versions);
    await behind.service.onApplicationBootstrap();
    writer.store.replaceAccount(snapshot(1));
    await writer.service.mutate(ACCOUNT, () => Promise.resolve());
    const current = replica(versions);
    await current.service.onApplicationBootstrap();

    behind.deliver(writer.published[0]);
    current.deliver(writer.published[0]);
    await settle();

    expect(writer.published[0]).toMatchObject({ accountId: ACCOUNT, version: 2 });
    expect(behind.repository.loadAccount).toHaveBeenCalledTimes(1);
    expect(behind.store.versionOf(ACCOUNT)).toBe(2);
    expect(current.repository.loadAccount).not.toHaveBeenCalled();
    expect(current.store.versionOf(ACCOUNT)).toBe(2);
  });

  it('runs the changes of one account one at a time: the next starts once the transaction before it ended', async () => {
    const { service } = replica();
    const steps: string[] = [];
    const gate = deferred();
    const first = service.mutate(ACCOUNT, async () => {
      steps.push('first starts');
      await gate.promise;
      steps.push('first ends');
    });
    const second = service.mutate(ACCOUNT, () => Promise.resolve(void steps.push('second starts')));
    const elsewhere = service.mutate(OTHER, () => Promise.resolve(void steps.push('other account')));
    await settle();
    expect(steps).toEqual(['first starts', 'other account']);

    gate.resolve();
    await Promise.all([first, second, elsewhere]);
    expect(steps).toEqual(['first starts', 'other account', 'first ends', 'second starts']);
  });

  it('answers 503 without running a change whose turn comes after the 4 s deadline', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const { service, repository, transaction } = replica();
    const gate = deferred();
    const first = service.mutate(ACCOUNT, () => gate.promise);
    const change = jest.fn(() => Promise.resolve());
    const late = service.mutate(ACCOUNT, change);
    const outcome = late.catch((error: unknown) => error);
    await settle();

    jest.advanceTimersByTime(4001);
    gate.resolve();
    await first;

    const error = await outcome;
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: ErrorCode.ServiceUnavailable });
    expect(change).not.toHaveBeenCalled();
    expect(transaction).toHaveBeenCalledTimes(1);
    expect(repository.lockAccount).toHaveBeenCalledTimes(1);
  });

  it('answers 503 at the 4 s deadline a queued change whose turn has not come, while the one before still runs', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const { service } = replica();
    const gate = deferred();
    const first = service.mutate(ACCOUNT, () => gate.promise);
    const change = jest.fn(() => Promise.resolve());
    const outcome = service.mutate(ACCOUNT, change).catch((error: unknown) => error);
    await settle();

    jest.advanceTimersByTime(4001);
    await expect(outcome).resolves.toMatchObject({ code: ErrorCode.ServiceUnavailable });
    expect(change).not.toHaveBeenCalled();

    // The change after it still waits for the first, not only for the one that gave up.
    const steps: string[] = [];
    const third = service.mutate(ACCOUNT, () => Promise.resolve(void steps.push('third')));
    await settle();
    expect(steps).toEqual([]);
    gate.resolve();
    await Promise.all([first, third]);
    expect(steps).toEqual(['third']);
  });

  it('resolves a committed change even when NATS cannot flush its broadcast, and the re-sync repeats that broadcast', async () => {
    const { service, store, published } = replica(new Map([[ACCOUNT, 1]]));
    await service.onApplicationBootstrap();
    store.replaceAccount(snapshot(1));
    const link = (service as unknown as { link: { connection: { flush: () => Promise<void> } } }).link;
    link.connection.flush = () => Promise.reject(new Error('nats down'));
    await expect(service.mutate(ACCOUNT, () => Promise.resolve('saved'))).resolves.toBe('saved');
    expect(published).toHaveLength(1);

    link.connection.flush = () => Promise.resolve();
    await service.resync();
    expect(published.map((event) => [event.accountId, event.version])).toEqual([
      [ACCOUNT, 2],
      [ACCOUNT, 2],
    ]);
    await service.resync();
    expect(published).toHaveLength(2);
  });

  it('answers 503 without running a change whose 4 s passed while the change before it finished (its turn came too late)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const { service, repository } = replica();
    const gate = deferred();
    const first = service.mutate(ACCOUNT, () => gate.promise);
    const change = jest.fn(() => Promise.resolve());
    const outcome = service.mutate(ACCOUNT, change).catch((error: unknown) => error);
    await settle();

    // The clock passes the deadline, but its timer has not fired yet when the change before ends.
    jest.setSystemTime(Date.now() + 4001);
    gate.resolve();
    await first;

    await expect(outcome).resolves.toMatchObject({ code: ErrorCode.ServiceUnavailable });
    expect(change).not.toHaveBeenCalled();
    expect(repository.lockAccount).toHaveBeenCalledTimes(1);
  });

  it('passes a queued change only what is left of its 4 s as the lock wait', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const { service, repository } = replica();
    const gate = deferred();
    const first = service.mutate(ACCOUNT, () => gate.promise);
    const second = service.mutate(ACCOUNT, () => Promise.resolve());
    await settle();

    jest.advanceTimersByTime(1500);
    gate.resolve();
    await Promise.all([first, second]);

    expect(repository.lockAccount.mock.calls.map(([, , waitMs]) => waitMs)).toEqual([4000, 2500]);
  });

  it('loads the account inside the transaction only when memory does not hold the committed version', async () => {
    const { service, store, repository } = replica(new Map([[ACCOUNT, 3]]));
    store.replaceAccount(snapshot(3));
    await service.mutate(ACCOUNT, () => Promise.resolve());
    expect(loadsInTransaction(repository)).toHaveLength(0);

    store.replaceAccount(snapshot(3));
    repository.versionOf.mockResolvedValueOnce(5);
    repository.loadAccount.mockResolvedValueOnce(snapshot(5));
    let seen = -1;
    await service.mutate(ACCOUNT, () => Promise.resolve(void (seen = store.versionOf(ACCOUNT))));
    expect(loadsInTransaction(repository)).toEqual([[ACCOUNT, MANAGER]]);
    expect(seen).toBe(5);
  });
});

describe('a re-sync', () => {
  it('reloads and broadcasts an account whose committed version is newer than memory, then looks only from there on', async () => {
    const versions = new Map([
      [ACCOUNT, 1],
      [OTHER, 4],
    ]);
    const { service, store, repository, published } = replica(versions);
    await service.onApplicationBootstrap();
    versions.set(ACCOUNT, 3);
    const polledAt = new Date(T0.getTime() + 5000);
    repository.changedSince.mockResolvedValueOnce({ polledAt, changes: [...versions].map(([accountId, version]) => ({ accountId, version })) });
    const resyncedBefore = (await accessMetrics.resynced.get()).values[0]?.value ?? 0;

    await service.resync();
    expect(repository.changedSince).toHaveBeenLastCalledWith(new Date(T0.getTime() - OVERLAP_MS));
    expect(repository.loadAccount.mock.calls).toEqual([[ACCOUNT]]);
    expect((await accessMetrics.resynced.get()).values[0].value - resyncedBefore).toBe(1);
    expect(store.versionOf(ACCOUNT)).toBe(3);
    expect(published).toEqual([{ subject: ACCESS_CHANGED, accountId: ACCOUNT, version: 3 }]);

    await service.resync();
    expect(repository.changedSince).toHaveBeenLastCalledWith(new Date(polledAt.getTime() - OVERLAP_MS));
  });

  it('reloads again an account whose reload in flight read an older snapshot', async () => {
    const versions = new Map([[ACCOUNT, 1]]);
    const { service, store, repository, deliver } = replica(versions);
    await service.onApplicationBootstrap();
    const inFlight = deferred<AccountSnapshot>();
    repository.loadAccount.mockImplementationOnce(() => inFlight.promise);
    deliver({ accountId: ACCOUNT, version: 2 });
    await settle();

    versions.set(ACCOUNT, 3);
    const resynced = service.resync();
    await settle();
    inFlight.resolve(snapshot(2));
    await resynced;

    expect(repository.loadAccount).toHaveBeenCalledTimes(2);
    expect(store.versionOf(ACCOUNT)).toBe(3);
  });

  it('retries an account whose reload failed, and does not move on while one fails', async () => {
    const versions = new Map([[ACCOUNT, 1]]);
    const { service, store, repository, deliver, published } = replica(versions);
    await service.onApplicationBootstrap();
    versions.set(ACCOUNT, 2);
    repository.loadAccount.mockRejectedValueOnce(new Error('database cut'));
    deliver({ accountId: ACCOUNT, version: 2 });
    await settle();
    expect(store.staleAccounts()).toEqual([ACCOUNT]);

    const noChanges = (at: number) => ({ polledAt: new Date(T0.getTime() + at), changes: [] });
    const resyncedBefore = (await accessMetrics.resynced.get()).values[0]?.value ?? 0;
    repository.changedSince.mockResolvedValueOnce(noChanges(1000));
    repository.loadAccount.mockRejectedValueOnce(new Error('database cut'));
    await service.resync();
    expect(store.staleAccounts()).toEqual([ACCOUNT]);

    repository.changedSince.mockResolvedValueOnce(noChanges(2000));
    await service.resync();
    expect(repository.changedSince).toHaveBeenLastCalledWith(new Date(T0.getTime() - OVERLAP_MS));
    expect(store.staleAccounts()).toEqual([]);
    expect(store.versionOf(ACCOUNT)).toBe(2);
    expect(published).toEqual([]);
    // Retries of a failed reload are not broadcasts caught up with.
    expect(((await accessMetrics.resynced.get()).values[0]?.value ?? 0) - resyncedBefore).toBe(0);
  });

  it('does not run on a reconnect before the first load ended, and does after it', async () => {
    const { service, repository, reconnect } = replica(new Map([[ACCOUNT, 1]]));
    const loaded = deferred<AccountSnapshot[]>();
    repository.loadAll.mockImplementationOnce(() => loaded.promise);
    const bootstrap = service.onApplicationBootstrap();
    await settle();
    expect(repository.loadAll).toHaveBeenCalled();

    reconnect();
    await settle();
    expect(repository.changedSince).not.toHaveBeenCalled();

    loaded.resolve([snapshot(1)]);
    await bootstrap;
    // Once by the start (the accounts changed just before it), then by the re-sync.
    expect(repository.changedSince).toHaveBeenCalledTimes(1);
    reconnect();
    await settle();
    expect(repository.changedSince).toHaveBeenCalledTimes(2);
  });

  it('announces at start the accounts changed within a gateway cache lifetime before its load (their writer may have died before broadcasting)', async () => {
    const { service, repository, announced } = replica(new Map([[ACCOUNT, 3]]));
    await service.onApplicationBootstrap();
    expect(repository.changedSince).toHaveBeenCalledWith(new Date(T0.getTime() - DECISION_CACHE_LIFETIME_MS));
    expect(announced).toEqual([{ subject: ACCESS_CHANGED, accountId: ACCOUNT, version: 3 }]);
  });

  it('starts all the same when that announcement fails', async () => {
    const { service, store, repository, announced } = replica(new Map([[ACCOUNT, 3]]));
    repository.changedSince.mockRejectedValueOnce(new Error('database restarting'));
    await service.onApplicationBootstrap();
    expect(store.versionOf(ACCOUNT)).toBe(3);
    expect(announced).toEqual([]);
  });

  it('runs every ACCESS_RESYNC_INTERVAL_MS', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const { service, repository } = replica();
    await service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(2500);
    expect(repository.changedSince).toHaveBeenCalledTimes(1 + 2);
  });

  it('reloads at most half the pool of accounts at once, so changes still find a connection, and reloads them all', async () => {
    const accounts = Array.from({ length: 7 }, (_, i) => `00000000-0000-4000-8000-0000000001${String(i).padStart(2, '0')}`);
    const versions = new Map(accounts.map((accountId) => [accountId, 1]));
    const { service, store, repository } = replica(versions, 4);
    await service.onApplicationBootstrap();
    for (const accountId of accounts) versions.set(accountId, 2);
    const pending: Array<() => void> = [];
    let running = 0;
    let mostAtOnce = 0;
    repository.loadAccount.mockImplementation((accountId) => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      return new Promise((resolve) =>
        pending.push(() => {
          running -= 1;
          resolve(snapshot(2, accountId));
        }),
      );
    });

    const resynced = service.resync();
    for (let round = 0; round < 20; round += 1) {
      await settle();
      for (const finish of pending.splice(0)) finish();
    }
    await resynced;
    expect(mostAtOnce).toBe(2);
    expect(repository.loadAccount).toHaveBeenCalledTimes(7);
    for (const accountId of accounts) expect(store.versionOf(accountId)).toBe(2);
  });

  it("does not hold back a change's own reload behind a re-sync's, for the same account or another", async () => {
    const versions = new Map([
      [ACCOUNT, 1],
      [OTHER, 1],
    ]);
    const { service, store, repository } = replica(versions, 2);
    await service.onApplicationBootstrap();
    versions.set(OTHER, 2);
    versions.set(ACCOUNT, 2);
    const stuck = deferred<AccountSnapshot>();
    const load = repository.loadAccount.getMockImplementation()!;
    repository.loadAccount.mockImplementation((accountId, manager) => (accountId === OTHER ? stuck.promise : load(accountId, manager)));
    repository.changedSince.mockResolvedValueOnce({
      polledAt: new Date(),
      changes: [
        { accountId: OTHER, version: 2 },
        { accountId: ACCOUNT, version: 2 },
      ],
    });
    const resynced = service.resync();
    await settle();
    // OTHER's reload holds the re-sync's only slot; ACCOUNT's waits for it.

    await expect(service.mutate(ACCOUNT, () => Promise.resolve('done'))).resolves.toBe('done');
    expect(store.versionOf(ACCOUNT)).toBe(3);
    stuck.resolve(snapshot(2, OTHER));
    await resynced;
    expect(store.versionOf(OTHER)).toBe(2);
  });
});

describe('an access.changed message', () => {
  it('is ignored when its account id is not a UUID', async () => {
    const { service, store, repository, deliver } = replica();
    await service.onApplicationBootstrap();
    deliver({ accountId: 'not-a-uuid', version: 5 });
    deliver({ accountId: 42 });
    await settle();
    expect(repository.loadAccount).not.toHaveBeenCalled();
    expect(store.staleAccounts()).toEqual([]);

    deliver({ accountId: ACCOUNT, version: 5 });
    await settle();
    expect(repository.loadAccount).toHaveBeenCalledWith(ACCOUNT);
  });
});
