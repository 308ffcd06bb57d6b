import type { DataSource, SelectQueryBuilder } from 'typeorm';
import type { AuditFeedPageView, AuditFeedQuery } from '#libs/contracts/index.js';
import { DEFAULT_PAGE_SIZE } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { decodeCursor, encodeCursor, exactTimestamp } from '#libs/platform/index.js';
import { AuditEventEntity } from './audit-event.entity.js';
import { toView } from './audit-view.js';

/**
 * Where a feed reader is: among the rows written before the feed existed (`before`: no
 * `written_in`, by time then id) or among the others (`feed`: by the writing transaction's id then
 * the row's id), after the row of key `key`.
 */
type FeedPosition = { phase: 'before'; key: [time: string, id: string] } | { phase: 'feed'; key: [xid: string, id: string] };

const PREFIX = 'audit-feed';
const NO_ID = '00000000-0000-0000-0000-000000000000';
/** Before every transaction's rows (0 is no transaction's id). */
const FEED_START: FeedPosition = { phase: 'feed', key: ['0', NO_ID] };
const OLDEST: FeedPosition = { phase: 'before', key: ['-infinity', NO_ID] };

/** An event and its key in the feed (the phase's parts of its cursor). */
interface FeedRow {
  event: AuditEventEntity;
  key: string[];
}

/**
 * One page of an account's audit feed, oldest first. Rows are taken in the order of the
 * transactions that wrote them, and only rows of transactions older than every transaction still
 * running (`pg_snapshot_xmin`): every later row comes from a transaction with a greater id, so a
 * reader that goes on from its cursor never misses a row that committed late (a listing by time
 * would: a row's time is taken before its commit). Rows written before the feed existed come
 * first, by time.
 */
export async function readAuditFeed(dataSource: DataSource, accountId: string, query: AuditFeedQuery): Promise<AuditFeedPageView> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  await settleRestoredRows(dataSource, accountId);
  let position = await startingPosition(dataSource, query);
  const rows: FeedRow[] = [];
  if (position.phase === 'before') {
    rows.push(...(await rowsBeforeFeed(dataSource, accountId, position.key, limit)));
    if (rows.length < limit) position = FEED_START;
  }
  if (position.phase === 'feed' && rows.length < limit) rows.push(...(await settledFeedRows(dataSource, accountId, position.key, limit - rows.length)));
  return { items: rows.map((row) => toView(row.event)), nextCursor: cursorAfter(rows, position) };
}

/** Restored rows settled by one statement: each commits on its own, well inside the statement timeout (30 s). */
const SETTLE_BATCH = 1000;

/**
 * After a restore from a logical dump (pg_dump), the server counts transactions from lower than
 * the ids its restored rows name: those rows would sort after everything written since, and never
 * pass the fence. They are history by then: they join the rows written before the feed existed
 * (no writing transaction, by time). A committed row of this server never names a transaction at
 * or past the snapshot's `xmax`, so nothing else is touched, and the statement changes nothing
 * (one probe of the feed's index) when there was no such restore. All of them are settled before
 * the page is read (a reader among the rows by time must not pass one settled later), in
 * statements of {@link SETTLE_BATCH} rows: one statement for a large account's trail could run
 * past the statement timeout, roll back, and leave its feed failing at every read; batches that
 * commit one by one get through, over several reads if this one's answer times out.
 */
async function settleRestoredRows(dataSource: DataSource, accountId: string): Promise<void> {
  for (;;) {
    const [, changed] = await dataSource.query<[unknown[], number]>(
      `UPDATE audit_events SET written_in = NULL
        WHERE id IN (SELECT id FROM audit_events WHERE account_id = $1 AND written_in >= pg_snapshot_xmax(pg_current_snapshot()) LIMIT $2)`,
      [accountId, SETTLE_BATCH],
    );
    if (changed < SETTLE_BATCH) return;
  }
}

/** The position a query starts from: its cursor's, or `start`'s (the oldest row, or now). */
async function startingPosition(dataSource: DataSource, query: AuditFeedQuery): Promise<FeedPosition> {
  if (query.cursor !== undefined) {
    if (query.start !== undefined)
      throw new DomainError(ErrorCode.ValidationFailed, 'start is for a feed read without a cursor; a cursor says where to go on', { field: 'start' });
    const position = decodePosition(query.cursor);
    if (position.phase === 'feed' && BigInt(position.key[0]) >= BigInt((await snapshot(dataSource)).xmax)) throw cursorFromBeforeRestore();
    return position;
  }
  if (query.start !== 'now') return OLDEST;
  // Rows of the oldest transaction still running and of every later one come after this place.
  return { phase: 'feed', key: [(await snapshot(dataSource)).xmin, NO_ID] };
}

/** The oldest transaction still running, and the first not begun yet (as PostgreSQL counts them, in decimal). */
async function snapshot(dataSource: DataSource): Promise<{ xmin: string; xmax: string }> {
  const [row] = await dataSource.query<Array<{ xmin: string; xmax: string }>>(
    'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin, pg_snapshot_xmax(pg_current_snapshot())::text AS xmax',
  );
  return row;
}

/** A cursor naming a transaction the server has not reached: given before the database was restored from a logical dump. */
function cursorFromBeforeRestore(): DomainError {
  return new DomainError(
    ErrorCode.Conflict,
    'This cursor was given before the database was restored from a dump (it names a transaction the server has not reached): read the feed again, from start=oldest or start=now',
    { field: 'cursor' },
  );
}

/** A cursor this feed gave, in either phase; anything else is a 400 naming the cursor. */
function decodePosition(cursor: string): FeedPosition {
  try {
    const key = decodeCursor(cursor, [PREFIX, 'before'], ['time', 'uuid'])!;
    return { phase: 'before', key: [key[0], key[1]] };
  } catch {
    const key = decodeCursor(cursor, [PREFIX, 'feed'], ['xid', 'uuid'])!;
    return { phase: 'feed', key: [key[0], key[1]] };
  }
}

function rowsBeforeFeed(dataSource: DataSource, accountId: string, [time, id]: [string, string], limit: number): Promise<FeedRow[]> {
  const rows = accountRows(dataSource, accountId, limit)
    .addSelect(exactTimestamp('e.occurred_at'), 'e_key')
    .andWhere('e.written_in IS NULL')
    .andWhere('(e.occurred_at, e.id) > (:time::timestamptz, :id::uuid)', { time, id })
    .orderBy('e.occurred_at')
    .addOrderBy('e.id');
  return withKeys(rows, 'before');
}

function settledFeedRows(dataSource: DataSource, accountId: string, [xid, id]: [string, string], limit: number): Promise<FeedRow[]> {
  const rows = accountRows(dataSource, accountId, limit)
    .addSelect('e.written_in::text', 'e_key')
    .andWhere('e.written_in IS NOT NULL AND e.written_in < pg_snapshot_xmin(pg_current_snapshot())')
    .andWhere('(e.written_in, e.id) > (:xid::xid8, :id::uuid)', { xid, id })
    .orderBy('e.written_in')
    .addOrderBy('e.id');
  return withKeys(rows, 'feed');
}

function accountRows(dataSource: DataSource, accountId: string, limit: number): SelectQueryBuilder<AuditEventEntity> {
  return dataSource.createQueryBuilder(AuditEventEntity, 'e').where('e.account_id = :accountId', { accountId }).limit(limit);
}

async function withKeys(rows: SelectQueryBuilder<AuditEventEntity>, phase: FeedPosition['phase']): Promise<FeedRow[]> {
  const { entities, raw } = await rows.getRawAndEntities<{ e_key: string }>();
  return entities.map((event, index) => ({ event, key: [phase, raw[index].e_key, event.id] }));
}

/** The cursor after the page's last row, or at `position` when the page is empty. */
function cursorAfter(rows: FeedRow[], position: FeedPosition): string {
  const last = rows.at(-1);
  return encodeCursor([PREFIX, ...(last ? last.key : [position.phase, ...position.key])]);
}
