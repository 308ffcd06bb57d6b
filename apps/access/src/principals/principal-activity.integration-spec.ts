import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import { ACCESS_CHANGED, Events, EVENTS_STREAM, eventSubject, type AccessChangedEvent, type EventEnvelope, type Principal } from '#libs/contracts/index.js';
import { NatsLink, PermanentEventError, publishEvent } from '#libs/platform/index.js';
import { dataSourceOptions } from '#libs/platform/storage.js';
import { TestDatabase } from '#libs/testing/database.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { accessDatabase } from '../access.database.js';
import { BindingEntity } from '../bindings/binding.entity.js';
import { loadCatalog } from '../catalog/catalog.loader.js';
import { BUILTIN_ROLE_PREFIX, DecisionStore } from '../checks/decision-store.js';
import { AccessRepository } from '../state/access-repository.js';
import { AccessStateService } from '../state/access-state.service.js';
import { PRINCIPALS_CONSUMER, PrincipalsService } from './principals.service.js';

const logger = pino({ level: 'silent' });
const database = new TestDatabase();
const nats = new TestNatsServer();
const ACCOUNT = randomUUID();
let link: NatsLink;
let dataSource: DataSource;
let store: DecisionStore;
let state: AccessStateService;
let principals: PrincipalsService;
let broadcasts: AccessChangedEvent[];
let watcher: Subscription;

type Activity = EventEnvelope<typeof Events.PrincipalActivityChanged>;

/** Identity's event: `principal` became (in)active at `changedAt`. */
function activity(principal: Principal, active: boolean, changedAt: string): Activity {
  return activities([[principal, active, changedAt]]);
}

/** Identity's event of several changes in the account (as the upgrade's announcement writes them). */
function activities(changes: Array<[Principal, boolean, string]>): Activity {
  const data = {
    accountId: ACCOUNT,
    changes: changes.map(([principal, active, changedAt]) => ({ principalType: principal.type, principalId: principal.id, active, changedAt })),
  };
  return { id: randomUUID(), type: Events.PrincipalActivityChanged, occurredAt: changes[0][2], accountId: ACCOUNT, data };
}

/** A principal holding Admin in every application of the account. */
async function admin(type: Principal['type']): Promise<Principal> {
  const principal = { type, id: randomUUID() };
  await state.mutate(ACCOUNT, (manager) =>
    manager.insert(BindingEntity, {
      id: randomUUID(),
      accountId: ACCOUNT,
      principalType: type,
      principalId: principal.id,
      roleId: `${BUILTIN_ROLE_PREFIX}Admin`,
      applicationIds: null,
    }),
  );
  return principal;
}

const reason = (principal: Principal) => store.decide(principal, ACCOUNT, 'billing', 'write').reason;

/** Resolves once the consumer has nothing left to deliver or to see acknowledged. */
async function consumerIdle(): Promise<void> {
  const manager = await jetstreamManager(link.connection);
  await eventually('the activity consumer to be idle', async () => {
    const info = await manager.consumers.info(EVENTS_STREAM, PRINCIPALS_CONSUMER);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  });
}

/** The account's committed version in PostgreSQL. */
async function committedVersion(): Promise<number> {
  const [row] = await database.query<{ version: string }>(`SELECT version FROM access.account_versions WHERE account_id = $1`, [ACCOUNT]);
  return Number(row.version);
}

beforeAll(async () => {
  await Promise.all([database.create(), nats.start()]);
  link = await NatsLink.open({ url: nats.url, name: 'principal-activity-test', logger });
  dataSource = new DataSource(dataSourceOptions(accessDatabase({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: 4 })));
  await dataSource.initialize();
  store = new DecisionStore(loadCatalog('voximplant'));
  state = new AccessStateService(store, new AccessRepository(dataSource), dataSource, link, logger, {
    ACCESS_RESYNC_INTERVAL_MS: 60_000,
    DATABASE_POOL_SIZE: 4,
  });
  await state.onApplicationBootstrap();
  principals = new PrincipalsService(state, dataSource, link, logger);
  await principals.onApplicationBootstrap();
  watcher = link.connection.subscribe(ACCESS_CHANGED, {
    callback: (_error, message) => {
      broadcasts.push(message.json<AccessChangedEvent>());
    },
  });
});
beforeEach(() => {
  broadcasts = [];
});
afterAll(async () => {
  watcher?.unsubscribe();
  await principals?.onModuleDestroy();
  state?.onModuleDestroy();
  await dataSource?.destroy();
  await link?.close();
  await nats.destroy();
  await database.drop();
});

describe("identity's activity events in access", () => {
  it('apply a deactivation once: the principal is refused everything, every replica and gateway is told, and a redelivery changes nothing', async () => {
    const subuser = await admin('subuser');
    expect(reason(subuser)).toBe('granted');
    const deactivated = activity(subuser, false, '2030-01-01T10:00:00.000001Z');
    await publishEvent(link, eventSubject(deactivated.type), deactivated);
    await eventually('the deactivation to be applied', () => reason(subuser) === 'inactive');
    const version = await committedVersion();
    expect(store.versionOf(ACCOUNT)).toBe(version);
    await eventually('the broadcast', () => broadcasts.some((event) => event.version === version));
    expect(broadcasts).toContainEqual({ accountId: ACCOUNT, principalId: subuser.id, version });
    // The same event again, past the stream's duplicate window (another message id): not even a change of the account is started.
    await jetstream(link.connection).publish(eventSubject(deactivated.type), JSON.stringify(deactivated), { msgID: randomUUID() });
    await consumerIdle();
    expect(await committedVersion()).toBe(version);
    expect(reason(subuser)).toBe('inactive');
    // A replica starting now loads it with everything else.
    const fresh = new DecisionStore(loadCatalog('voximplant'));
    for (const snapshot of await new AccessRepository(dataSource).loadAll()) fresh.replaceAccount(snapshot);
    expect(fresh.decide(subuser, ACCOUNT, 'billing', 'write')).toEqual({ allowed: false, reason: 'inactive' });
  });

  it('keep the latest change of a principal whatever order they arrive in (times to the microsecond)', async () => {
    const user = await admin('user');
    const reactivated = activity(user, true, '2030-01-01T10:00:00.000002Z');
    const olderDeactivation = activity(user, false, '2030-01-01T10:00:00.000001Z');
    const newerDeactivation = activity(user, false, '2030-01-01T10:00:00.000003Z');
    await publishEvent(link, eventSubject(reactivated.type), reactivated);
    await publishEvent(link, eventSubject(olderDeactivation.type), olderDeactivation);
    await consumerIdle();
    expect(reason(user)).toBe('granted');
    await publishEvent(link, eventSubject(newerDeactivation.type), newerDeactivation);
    await eventually('the newer deactivation to be applied', () => reason(user) === 'inactive');
    const rows = await database.query<{ active: boolean; changed_at: string }>(
      `SELECT active, to_char(changed_at AT TIME ZONE 'UTC', 'HH24:MI:SS.US') AS changed_at FROM access.principal_activity WHERE principal_id = $1`,
      [user.id],
    );
    expect(rows).toEqual([{ active: false, changed_at: '10:00:00.000003' }]);
    const applied = await database.query(`SELECT event_id FROM access.applied_events WHERE event_id = ANY($1)`, [
      [reactivated.id, olderDeactivation.id, newerDeactivation.id],
    ]);
    expect(applied).toHaveLength(3);
  });

  it('apply an event of several principals as one change of the account: one version, one broadcast, each change only over an older one', async () => {
    const [user, subuser, reactivatedLater] = [await admin('user'), await admin('subuser'), await admin('user')];
    await publishEvent(link, eventSubject(Events.PrincipalActivityChanged), activity(reactivatedLater, true, '2030-01-02T10:00:00.000002Z'));
    await consumerIdle();
    const before = await committedVersion();
    const announcement = activities([
      [user, false, '2030-01-02T10:00:00.000001Z'],
      [subuser, false, '2030-01-02T10:00:00.000001Z'],
      [reactivatedLater, false, '2030-01-02T10:00:00.000001Z'],
    ]);
    await publishEvent(link, eventSubject(announcement.type), announcement);
    await eventually('the announcement to be applied', () => reason(user) === 'inactive' && reason(subuser) === 'inactive');
    await consumerIdle();
    const after = await committedVersion();
    expect(after).toBeGreaterThan(before);
    expect(store.versionOf(ACCOUNT)).toBe(after);
    expect(reason(reactivatedLater)).toBe('granted');
    // Every gateway drops the account's decisions (several principals changed), once.
    await eventually('the broadcast', () => broadcasts.some((event) => event.version === after));
    expect(broadcasts.filter((event) => event.version! > before)).toEqual([{ accountId: ACCOUNT, version: after }]);
  });

  it('apply an event naming its account and principals in capitals to the account as every subject names it (lower-case): locked, reloaded and told as that one', async () => {
    const user = await admin('user');
    const event = activity(user, false, '2030-01-04T10:00:00.000001Z');
    const [change] = event.data.changes;
    await principals.applyActivity({ ...event, data: { accountId: ACCOUNT.toUpperCase(), changes: [{ ...change, principalId: user.id.toUpperCase() }] } });
    expect(reason(user)).toBe('inactive');
    await eventually('the broadcast', () => broadcasts.some((heard) => heard.principalId === user.id));
    expect(broadcasts.filter((heard) => heard.accountId !== ACCOUNT)).toEqual([]);
  });

  it('refuse a malformed event as one to drop (the consumer terminates it), without changing the account', async () => {
    const user = await admin('user');
    const before = await committedVersion();
    const [good] = activity(user, false, '2030-01-03T10:00:00.000001Z').data.changes;
    for (const changes of [[{ ...good, changedAt: '2030-02-30T10:00:00Z' }], [good, { ...good, principalType: 'robot' }], []]) {
      const malformed = { ...activity(user, false, good.changedAt), data: { accountId: ACCOUNT, changes } } as Activity;
      await expect(principals.applyActivity(malformed)).rejects.toBeInstanceOf(PermanentEventError);
    }
    expect(await committedVersion()).toBe(before);
    expect(reason(user)).toBe('granted');
  });
});
