import { randomUUID } from 'node:crypto';
import type { AuditEventView, AuditFeedQuery } from '#libs/contracts/index.js';
import { encodeCursor } from '#libs/platform/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';
import { readAuditFeed } from './audit-feed.js';

const { db, services } = freshIdentityServices();

/** Records one event in `accountId`, told apart by its address. */
function record(accountId: string, ip: string, manager: Parameters<typeof services.audit.record>[0] = null): Promise<void> {
  return services.audit.record(manager, { accountIds: [accountId], action: 'login.failed', ip });
}

/**
 * Reads the feed on from `cursor`, page by page, until it has given `count` events (other test
 * processes' transactions can hold the feed back a moment: it waits for them). Returns the events and where to go on.
 */
async function readOn(accountId: string, count: number, query: AuditFeedQuery = {}): Promise<{ items: AuditEventView[]; cursor: string }> {
  const items: AuditEventView[] = [];
  let next: AuditFeedQuery = query;
  await eventually(`${count} events in the feed`, async () => {
    const page = await services.audit.feed(accountId, next);
    items.push(...page.items);
    next = { limit: query.limit, cursor: page.nextCursor };
    return items.length >= count;
  });
  return { items, cursor: next.cursor! };
}

const addresses = (items: AuditEventView[]) => items.map((item) => item.ip);

describe("an account's audit feed", () => {
  it('gives every event of the account once, oldest first, across pages, and goes on from its cursor with what was written since', async () => {
    const { accountId } = await db.account();
    const other = await db.account();
    for (let n = 1; n <= 5; n += 1) await record(accountId, `10.0.0.${n}`);
    await record(other.accountId, '10.9.9.9');

    const first = await readOn(accountId, 5, { limit: 2 });
    expect(addresses(first.items)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
    const drained = await services.audit.feed(accountId, { cursor: first.cursor });
    expect(drained.items).toEqual([]);
    // An empty page still says where to go on.
    expect(drained.nextCursor).toEqual(first.cursor);

    await record(accountId, '10.0.0.6');
    expect(addresses((await readOn(accountId, 1, { cursor: first.cursor })).items)).toEqual(['10.0.0.6']);
  });

  it('holds back what a later transaction wrote while an earlier one that wrote runs, so a reader going on from its cursor misses neither', async () => {
    const { accountId } = await db.account();
    const { cursor } = await readOn(accountId, 0);
    const earlier = db.dataSource.createQueryRunner();
    await earlier.connect();
    try {
      await earlier.startTransaction();
      await record(accountId, '10.1.0.1', earlier.manager);
      // Committed first, written second.
      await record(accountId, '10.1.0.2');

      // A feed by commit time would give 10.1.0.2 now, and a reader going on after it would never see 10.1.0.1.
      const meanwhile = await services.audit.feed(accountId, { cursor });
      expect(meanwhile.items).toEqual([]);
      await earlier.commitTransaction();
    } finally {
      if (earlier.isTransactionActive) await earlier.rollbackTransaction();
      await earlier.release();
    }
    expect(addresses((await readOn(accountId, 2, { cursor })).items)).toEqual(['10.1.0.1', '10.1.0.2']);
  });

  it('gives the events written before the feed existed first, by time, then the others', async () => {
    const { accountId } = await db.account();
    await record(accountId, '10.2.0.3');
    await record(accountId, '10.2.0.4');
    for (const [ip, minutesAgo] of [
      ['10.2.0.2', 5],
      ['10.2.0.1', 10],
    ] as const)
      // As migration 1735300000000 leaves the rows already there: no writing transaction.
      await db.dataSource.query(
        `INSERT INTO audit_events (id, account_id, occurred_at, action, outcome, ip, details, written_in)
         VALUES ($1, $2, now() - make_interval(mins => $3), 'login.failed', 'failure', $4, '{}', NULL)`,
        [randomUUID(), accountId, minutesAgo, ip],
      );

    expect(addresses((await readOn(accountId, 4, { limit: 1 })).items)).toEqual(['10.2.0.1', '10.2.0.2', '10.2.0.3', '10.2.0.4']);
  });

  it('starts, asked to start now, after every event of a transaction older than the oldest one still running, and misses none written after the call', async () => {
    const { accountId } = await db.account();
    await record(accountId, '10.3.0.1');
    const now = await services.audit.feed(accountId, { start: 'now' });
    await record(accountId, '10.3.0.2');
    // Other test processes' transactions may be running: 10.3.0.1 may come then (as in the test below), 10.3.0.2 must, once.
    const given = addresses(now.items);
    let cursor = now.nextCursor;
    await eventually('10.3.0.2 in the feed', async () => {
      const page = await services.audit.feed(accountId, { cursor });
      given.push(...addresses(page.items));
      cursor = page.nextCursor;
      return given.includes('10.3.0.2');
    });
    expect([['10.3.0.2'], ['10.3.0.1', '10.3.0.2']]).toContainEqual(given);
  });

  it('gives after a start now an event written before the call while an older transaction, even of another account, was still running', async () => {
    const { accountId } = await db.account();
    const older = db.dataSource.createQueryRunner();
    await older.connect();
    let now: Awaited<ReturnType<typeof services.audit.feed>>;
    try {
      await older.startTransaction();
      // A transaction of another account that wrote, still running.
      await record((await db.account()).accountId, '10.5.9.9', older.manager);
      await record(accountId, '10.5.0.1');
      now = await services.audit.feed(accountId, { start: 'now' });
      expect(now.items).toEqual([]);
      await older.commitTransaction();
    } finally {
      if (older.isTransactionActive) await older.rollbackTransaction();
      await older.release();
    }
    await record(accountId, '10.5.0.2');
    expect(addresses((await readOn(accountId, 2, { cursor: now.nextCursor })).items)).toEqual(['10.5.0.1', '10.5.0.2']);
  });

  it('takes the rows a restore from a logical dump left naming transactions the server has not reached as history, by time, and refuses a cursor given before it (409)', async () => {
    const { accountId } = await db.account();
    await record(accountId, '10.4.0.2');
    // As pg_restore leaves them: ids from the old server, ahead of this one's.
    await db.dataSource.query(
      `INSERT INTO audit_events (id, account_id, occurred_at, action, outcome, ip, details, written_in)
       VALUES ($1, $2, now() - interval '1 day', 'login.failed', 'failure', '10.4.0.1', '{}', (pg_snapshot_xmax(pg_current_snapshot())::text::numeric + 1000000)::text::xid8)`,
      [randomUUID(), accountId],
    );
    const { items, cursor } = await readOn(accountId, 2);
    expect(addresses(items)).toEqual(['10.4.0.1', '10.4.0.2']);
    await record(accountId, '10.4.0.3');
    expect(addresses((await readOn(accountId, 1, { cursor })).items)).toEqual(['10.4.0.3']);

    const ahead = encodeCursor(['audit-feed', 'feed', '18446744073709551000', randomUUID()]);
    await expect(services.audit.feed(accountId, { cursor: ahead })).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'cursor' } });
  });

  it("settles a large account's restored rows in statements of at most 1000 rows, each committed on its own, so that none runs into the statement timeout", async () => {
    const { accountId } = await db.account();
    await db.dataSource.query(
      `INSERT INTO audit_events (id, account_id, occurred_at, action, outcome, ip, details, written_in)
       SELECT gen_random_uuid(), $1, now() - make_interval(secs => g), 'login.failed', 'failure', '10.6.0.1', '{}',
              (pg_snapshot_xmax(pg_current_snapshot())::text::numeric + 1000000 + g)::text::xid8
         FROM generate_series(1, 2500) g`,
      [accountId],
    );
    // The rows each UPDATE of the read changed.
    const changed: number[] = [];
    const counting = new Proxy(db.dataSource, {
      get(target, property, receiver) {
        if (property !== 'query') return Reflect.get(target, property, receiver) as unknown;
        return async (sql: string, parameters?: unknown[]) => {
          const result: unknown = await target.query(sql, parameters);
          if (/^\s*UPDATE audit_events/.test(sql)) changed.push((result as [unknown[], number])[1]);
          return result;
        };
      },
    });

    expect((await readAuditFeed(counting, accountId, { limit: 1 })).items).toHaveLength(1);
    expect(changed.reduce((sum, count) => sum + count, 0)).toBe(2500);
    expect(Math.max(...changed)).toBeLessThanOrEqual(1000);
    const [{ left }] = await db.dataSource.query<Array<{ left: number }>>(
      'SELECT count(*)::int AS left FROM audit_events WHERE account_id = $1 AND written_in IS NOT NULL',
      [accountId],
    );
    expect(left).toBe(0);
  });

  it.each([
    ['a cursor of the newest-first list', 'cursor', { cursor: encodeCursor(['audit', '2026-01-01T10:00:00.000000Z', randomUUID()]) }],
    ['a transaction id no xid8 holds', 'cursor', { cursor: encodeCursor(['audit-feed', 'feed', '18446744073709551616', randomUUID()]) }],
    ['a phase the feed does not have', 'cursor', { cursor: encodeCursor(['audit-feed', 'after', '1', randomUUID()]) }],
    ['a start beside a cursor', 'start', { start: 'now', cursor: encodeCursor(['audit-feed', 'feed', '1', randomUUID()]) }],
  ] as const)('refuses %s with a 400 naming %s', async (_case, field, query) => {
    const { accountId } = await db.account();
    await expect(services.audit.feed(accountId, query)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field } });
  });
});
