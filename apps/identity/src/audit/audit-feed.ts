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
  let position = await startingPosition(dataSource, query);
  const rows: FeedRow[] = [];
  if (position.phase === 'before') {
    rows.push(...(await rowsBeforeFeed(dataSource, accountId, position.key, limit)));
    if (rows.length < limit) position = FEED_START;
  }
  if (position.phase === 'feed' && rows.length < limit) rows.push(...(await settledFeedRows(dataSource, accountId, position.key, limit - rows.length)));
  return { items: rows.map((row) => toView(row.event)), nextCursor: cursorAfter(rows, position) };
}

/** The position a query starts from: its cursor's, or `start`'s (the oldest row, or now). */
async function startingPosition(dataSource: DataSource, query: AuditFeedQuery): Promise<FeedPosition> {
  if (query.cursor !== undefined) {
    if (query.start !== undefined)
      throw new DomainError(ErrorCode.ValidationFailed, 'start is for a feed read without a cursor; a cursor says where to go on', { field: 'start' });
    return decodePosition(query.cursor);
  }
  if (query.start !== 'now') return OLDEST;
  const [{ xmin }] = await dataSource.query<Array<{ xmin: string }>>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
  // Rows of the oldest transaction still running and of every later one come after this place.
  return { phase: 'feed', key: [xmin, NO_ID] };
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
