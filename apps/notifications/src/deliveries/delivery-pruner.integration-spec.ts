import { pino } from 'pino';
import type { DeliveryStatus } from '#libs/contracts/index.js';
import { NotificationsTestDatabase } from '../database-harness-spec.js';
import type { NotificationsConfig } from '../notifications.config.js';
import { DELIVERY_PRUNE_BATCH, DeliveryPruner } from './delivery-pruner.js';
import { EVENT_MEMORY_DAYS } from './delivery-policy.js';
import { ABANDONED_ERROR, PostgresDeliveryStore } from './delivery.store.js';
import { mailMetrics } from './mail-metrics.js';

const db = new NotificationsTestDatabase();
const RETENTION_DAYS = 30;
const config = { DELIVERY_RETENTION_DAYS: RETENTION_DAYS, MAIL_RATE_WINDOW_MINUTES: 60 } as NotificationsConfig;
const lines: Array<Record<string, unknown>> = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });

/** A store that reports what each statement of the delivery log's pruning deleted, and may act right after one. */
class WatchedStore extends PostgresDeliveryStore {
  readonly batches: number[] = [];
  afterBatch: () => void = () => undefined;

  override async pruneDeliveryLog(retentionDays: number, limit: number): Promise<number> {
    const deleted = await super.pruneDeliveryLog(retentionDays, limit);
    this.batches.push(deleted);
    this.afterBatch();
    return deleted;
  }
}

/** Records `count` mails in `status`, as if recorded `age` ago (a PostgreSQL interval); returns their keys. */
async function recorded(count: number, status: DeliveryStatus, age: string): Promise<string[]> {
  const rows = await db.dataSource.query<Array<{ event_id: string }>>(
    `INSERT INTO deliveries (id, event_id, event_type, recipient, template, locale, status, attempts, created_at, updated_at)
     SELECT gen_random_uuid(), gen_random_uuid(), 'identity.user.invited', 'ada' || n || '@example.com', 'activation', 'en', $2, 1,
       now() - $3::interval, now() - $3::interval
     FROM generate_series(1, $1::integer) AS n
     RETURNING event_id`,
    [count, status, age],
  );
  return rows.map((row) => row.event_id);
}

/** Which of `eventIds` still have their record. */
async function kept(eventIds: string[]): Promise<string[]> {
  const rows = await db.dataSource.query<Array<{ event_id: string }>>(`SELECT event_id FROM deliveries WHERE event_id = ANY($1::uuid[])`, [eventIds]);
  return rows.map((row) => row.event_id).sort();
}

/** The mails this process counted dead without an SMTP attempt. */
async function countedDead(): Promise<number> {
  const { values } = await mailMetrics.unattempted.get();
  return values.find((sample) => sample.labels.status === 'dead')?.value ?? 0;
}

beforeAll(() => db.start(4));
beforeEach(async () => {
  await db.dataSource.query('DELETE FROM deliveries');
  lines.length = 0;
});
afterAll(() => db.stop());

describe('the delivery log past DELIVERY_RETENTION_DAYS', () => {
  it('is deleted for mails done (sent, failed, dead, suppressed, cancelled); newer lines and mails still pending or being sent (their event kept) stay', async () => {
    const done: DeliveryStatus[] = ['sent', 'failed', 'dead', 'suppressed', 'cancelled'];
    const old = (await Promise.all(done.map((status) => recorded(1, status, `${RETENTION_DAYS} days 1 minute`)))).flat();
    const recent = (await Promise.all(done.map((status) => recorded(1, status, `${RETENTION_DAYS - 1} days 23 hours 59 minutes`)))).flat();
    const young = `${EVENT_MEMORY_DAYS - 1} days 23 hours 59 minutes`;
    const unfinished = [...(await recorded(1, 'pending', young)), ...(await recorded(1, 'sending', young))];

    expect(await new DeliveryPruner(new PostgresDeliveryStore(db.dataSource), config, logger).prune()).toBe(done.length);

    expect(await kept([...old, ...recent, ...unfinished])).toEqual([...recent, ...unfinished].sort());
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'Deleted the delivery log lines past their retention (DELIVERY_RETENTION_DAYS)',
        deleted: done.length,
        retentionDays: 30,
      }),
    );
  });

  it('marks dead the mails still pending or being sent whose event left the stream (recorded over 8 days ago), and says so; not one a replica is sending now', async () => {
    const orphans = [...(await recorded(1, 'pending', `${EVENT_MEMORY_DAYS} days 1 minute`)), ...(await recorded(1, 'sending', '20 days'))];
    const waiting = [...(await recorded(1, 'pending', `${EVENT_MEMORY_DAYS - 1} days 23 hours 59 minutes`)), ...(await recorded(1, 'sending', '1 hour'))];
    // In a replica's hands right now (its lease not over): its send decides, whatever its age.
    const held = await recorded(1, 'sending', '20 days');
    await db.dataSource.query(`UPDATE deliveries SET lease_until = now() + interval '1 minute' WHERE event_id = $1`, [held[0]]);
    const failed = await recorded(1, 'failed', '20 days');
    const deadBefore = await countedDead();

    expect(await new DeliveryPruner(new PostgresDeliveryStore(db.dataSource), config, logger).prune()).toBe(0);

    const rows = await db.dataSource.query<Array<{ event_id: string; status: string; last_error: string | null; lease_until: Date | null }>>(
      'SELECT event_id, status, last_error, lease_until FROM deliveries WHERE event_id = ANY($1::uuid[])',
      [[...orphans, ...waiting, ...held, ...failed]],
    );
    const statusOf = (eventId: string) => rows.find((row) => row.event_id === eventId);
    expect(orphans.map(statusOf)).toEqual(orphans.map((eventId) => ({ event_id: eventId, status: 'dead', last_error: ABANDONED_ERROR, lease_until: null })));
    expect([...waiting, ...held].map((eventId) => statusOf(eventId)?.status)).toEqual(['pending', 'sending', 'sending']);
    expect(statusOf(failed[0])?.status).toBe('failed');
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, abandoned: 2 }));
    // Counted with the mails that ended without an SMTP attempt, for the dead letters' alert.
    expect(await countedDead()).toBe(deadBefore + 2);
  });

  it('deletes at once a mail it marks dead that was recorded before the retention began (a line left pending by an earlier release)', async () => {
    const ancient = await recorded(1, 'pending', '400 days');

    expect(await new DeliveryPruner(new PostgresDeliveryStore(db.dataSource), config, logger).prune()).toBe(1);
    expect(await kept(ancient)).toEqual([]);
  });

  it(`is deleted ${DELIVERY_PRUNE_BATCH} lines per statement, statement after statement until none is left`, async () => {
    const old = await recorded(2 * DELIVERY_PRUNE_BATCH + 500, 'sent', '31 days');
    const store = new WatchedStore(db.dataSource);

    expect(await new DeliveryPruner(store, config, logger).prune()).toBe(old.length);

    expect(store.batches).toEqual([DELIVERY_PRUNE_BATCH, DELIVERY_PRUNE_BATCH, 500]);
    expect(await kept(old)).toEqual([]);
  });

  it('skips a line another transaction holds (a mail being marked) rather than wait for it, and deletes it at a later pass', async () => {
    const [held, other] = await recorded(2, 'failed', '31 days');
    const pruner = new DeliveryPruner(new PostgresDeliveryStore(db.dataSource), config, logger);
    const runner = db.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      await runner.query('SELECT 1 FROM deliveries WHERE event_id = $1 FOR UPDATE', [held]);
      expect(await pruner.prune()).toBe(1);
      expect(await kept([held, other])).toEqual([held]);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    expect(await pruner.prune()).toBe(1);
    expect(await kept([held])).toEqual([]);
  });

  it('is pruned once as the service starts, and the pruning stops after the statement under way when it shuts down', async () => {
    const old = await recorded(2 * DELIVERY_PRUNE_BATCH + 500, 'sent', '31 days');
    const store = new WatchedStore(db.dataSource);
    const pruner = new DeliveryPruner(store, config, logger);
    let shutdown: Promise<void> | undefined;
    const firstBatch = new Promise<void>((resolve) => {
      store.afterBatch = () => {
        shutdown ??= pruner.onModuleDestroy();
        resolve();
      };
    });

    pruner.onApplicationBootstrap();
    await firstBatch;
    await shutdown;

    expect(store.batches).toEqual([DELIVERY_PRUNE_BATCH]);
    expect(await kept(old)).toHaveLength(DELIVERY_PRUNE_BATCH + 500);
  });

  it('is never deleted sooner than the events stream may deliver its event again (7 days, and a day more)', async () => {
    const old = await recorded(1, 'sent', '7 days 23 hours');
    const store = new PostgresDeliveryStore(db.dataSource);

    await expect(store.pruneDeliveryLog(7, DELIVERY_PRUNE_BATCH)).rejects.toThrow(RangeError);
    expect(await store.pruneDeliveryLog(8, DELIVERY_PRUNE_BATCH)).toBe(0);
    expect(await kept(old)).toEqual(old);
  });
});
