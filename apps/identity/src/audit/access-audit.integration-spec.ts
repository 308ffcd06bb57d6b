import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { ACCESS_EVENTS, Events, EVENTS_STREAM, eventSubject, type EventEnvelope } from '#libs/contracts/index.js';
import { NatsLink, publishEvent } from '#libs/platform/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { ACCESS_AUDIT_CONSUMER, AccessAuditConsumer, UNKNOWN_ACCESS_EVENT_RETRY_MS } from './access-audit.consumer.js';
import { AuditService } from './audit.service.js';
import { RoleProjection } from '../roles/role-projection.js';

const lines: Array<Record<string, unknown>> = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
const db = new IdentityTestDatabase();
const nats = new TestNatsServer();
const ACCOUNT = randomUUID();
const admin = { type: 'user' as const, id: randomUUID() };
let link: NatsLink;
let audit: AuditService;
let consumer: AccessAuditConsumer;

/** Access's event that `admin` renamed and regranted a role, at `occurredAt`. */
function roleUpdated(occurredAt = '2030-01-01T10:00:00.123Z'): EventEnvelope<typeof Events.RoleUpdated> {
  const data = {
    accountId: ACCOUNT,
    actor: admin,
    ip: '203.0.113.9',
    roleId: randomUUID(),
    name: 'Auditor',
    changes: { name: { from: 'Call auditor', to: 'Auditor' }, grants: { from: ['call_history:read'], to: [] } },
    holders: 2,
  };
  return { id: randomUUID(), type: Events.RoleUpdated, occurredAt, accountId: ACCOUNT, data };
}

async function rowsOf(eventId: string): Promise<number> {
  const [{ count }] = await db.dataSource.query<Array<{ count: number }>>(`SELECT count(*)::int AS count FROM audit_events WHERE id = $1`, [eventId]);
  return count;
}

/** Resolves once the consumer has nothing left to deliver, and `waiting` events delivered but not answered for good. */
async function consumerIdle(waiting = 0): Promise<void> {
  const manager = await jetstreamManager(link.connection);
  await eventually('the audit consumer to be idle', async () => {
    const info = await manager.consumers.info(EVENTS_STREAM, ACCESS_AUDIT_CONSUMER);
    return info.num_pending === 0 && info.num_ack_pending === waiting;
  });
}

/** The log lines the consumer wrote at `level` (50 error, 40 warn). */
const logged = (level: number) => lines.filter((line) => line.level === level);

beforeAll(async () => {
  await Promise.all([db.start(), nats.start()]);
  link = await NatsLink.open({ url: nats.url, name: 'access-audit-test', logger });
  audit = new AuditService(db.dataSource);
  consumer = new AccessAuditConsumer(audit, new RoleProjection(db.dataSource), link, logger);
  await consumer.onApplicationBootstrap();
});
afterAll(async () => {
  await consumer?.onModuleDestroy();
  await link?.close();
  await nats.destroy();
  await db.stop();
});

describe("access's events in the audit trail", () => {
  it('are recorded once however often they are delivered, at the time they happened, and listed like any other', async () => {
    const event = roleUpdated();
    await publishEvent(link, eventSubject(event.type), event);
    // The same event again, past the stream's duplicate window (another message id), as after a relay's crash.
    await jetstream(link.connection).publish(eventSubject(event.type), JSON.stringify(event), { msgID: randomUUID() });
    await consumerIdle();
    expect(await rowsOf(event.id)).toBe(1);
    const page = await audit.list(ACCOUNT, { action: 'role.updated' });
    expect(page.items).toEqual([
      {
        id: event.id,
        occurredAt: '2030-01-01T10:00:00.123Z',
        action: 'role.updated',
        outcome: 'success',
        actor: admin,
        target: { type: 'role', id: event.data.roleId },
        ip: '203.0.113.9',
        details: {
          name: 'Auditor',
          changed: ['name', 'grants'],
          previousName: 'Call auditor',
          grantsBefore: ['call_history:read'],
          grantsAfter: [],
          holders: 2,
        },
      },
    ]);
    expect((await audit.list(ACCOUNT, { targetId: event.data.roleId })).items.map((item) => item.id)).toEqual([event.id]);
  });

  it("change the role projection too when they change a principal's bindings, the latest version kept, and are audited once", async () => {
    const { accountId } = await db.account();
    const principal = { type: 'user' as const, id: (await db.member(accountId)).id };
    const replaced = (version: number, roleIds: string[]): EventEnvelope<typeof Events.BindingsReplaced> => {
      const after = roleIds.map((roleId) => ({ roleId, role: roleId.slice('builtin:'.length), applicationIds: null }));
      const data = { accountId, actor: admin, ip: null, principal, before: [], after, version };
      return { id: randomUUID(), type: Events.BindingsReplaced, occurredAt: '2030-01-01T10:00:00.123Z', accountId, data };
    };
    const newer = replaced(20, ['builtin:Admin', 'builtin:Developer']);
    const older = replaced(10, ['builtin:Support']);
    for (const event of [newer, older]) await publishEvent(link, eventSubject(event.type), event);
    await consumerIdle();
    const held = await db.dataSource.query<Array<{ role_id: string }>>('SELECT role_id FROM role_holdings WHERE principal_id = $1 ORDER BY role_id', [
      principal.id,
    ]);
    expect(held.map((row) => row.role_id)).toEqual(['builtin:Admin', 'builtin:Developer']);
    expect([await rowsOf(newer.id), await rowsOf(older.id)]).toEqual([1, 1]);
  });

  it('are recorded once when two replicas handle the same delivery at the same time', async () => {
    const event = roleUpdated();
    await Promise.all([consumer.record(event), consumer.record(event), consumer.record(event)]);
    expect(await rowsOf(event.id)).toBe(1);
  });

  it('come only from the subjects of access', async () => {
    const manager = await jetstreamManager(link.connection);
    expect((await manager.consumers.info(EVENTS_STREAM, ACCESS_AUDIT_CONSUMER)).config.filter_subject).toBe(ACCESS_EVENTS);
  });

  it('are dropped with an error, nothing written, when they can never be recorded, and the next one is still recorded', async () => {
    lines.length = 0;
    const noAccount = { ...roleUpdated(), data: { ...roleUpdated().data, accountId: 'not-an-account' } };
    const noChanges = { ...roleUpdated(), data: { ...roleUpdated().data, changes: undefined } };
    const badTime = roleUpdated('the day before yesterday');
    const good = roleUpdated();
    await jetstream(link.connection).publish(eventSubject(Events.RoleUpdated), 'null', { msgID: randomUUID() });
    for (const event of [noAccount, noChanges, badTime, good]) await publishEvent(link, eventSubject(event.type), event as EventEnvelope);

    await eventually('the next good event to be recorded', async () => (await rowsOf(good.id)) === 1);
    await consumerIdle();
    for (const event of [noAccount, noChanges, badTime]) expect(await rowsOf(event.id)).toBe(0);
    expect(logged(50).map((line) => line.eventId)).toEqual([undefined, noAccount.id, noChanges.id, badTime.id]);
    expect(logged(40)).toEqual([]);
  });
});

// Last: the events of an unknown type stay with the consumer (for UNKNOWN_ACCESS_EVENT_RETRY_MS), not answered for good.
describe('access events of a type this release does not know', () => {
  it('are kept for a newer identity, not acknowledged and lost, with one warning per type, and the next one is still recorded', async () => {
    lines.length = 0;
    const unknown = (): EventEnvelope => ({ ...roleUpdated(), type: 'access.role.cloned' }) as unknown as EventEnvelope;
    const [first, second] = [unknown(), unknown()];
    const good = roleUpdated();
    for (const event of [first, second, good]) await publishEvent(link, eventSubject(event.type as typeof Events.RoleUpdated), event);

    await eventually('the next good event to be recorded', async () => (await rowsOf(good.id)) === 1);
    await consumerIdle(2);
    expect(await rowsOf(first.id)).toBe(0);
    expect(logged(40)).toEqual([expect.objectContaining({ type: 'access.role.cloned', retryInMs: UNKNOWN_ACCESS_EVENT_RETRY_MS })]);
    expect(logged(50)).toEqual([]);
  });
});
