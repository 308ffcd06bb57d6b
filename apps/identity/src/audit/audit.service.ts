import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type {
  AuditAction,
  AuditEventView,
  AuditFeedPageView,
  AuditFeedQuery,
  AuditOutcome,
  AuditQuery,
  AuditTarget,
  Page,
  Principal,
} from '#libs/contracts/index.js';
import { DEFAULT_PAGE_SIZE } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { decodeCursor, encodeCursor, exactTimestamp } from '#libs/platform/index.js';
import { AuditEventEntity } from './audit-event.entity.js';
import { readAuditFeed } from './audit-feed.js';
import { toView } from './audit-view.js';

/** What an audit event may say beside who, what and whom: plain values, never a secret. */
export type AuditDetails = Record<string, string | number | boolean | null | string[]>;

/** One thing to record. `accountIds`: each account that should see it (none: operators only). */
export interface AuditEntry {
  accountIds: Array<string | null>;
  action: AuditAction;
  outcome?: AuditOutcome;
  actor?: Principal | null;
  target?: AuditTarget | null;
  ip?: string | null;
  details?: AuditDetails;
}

/** Another service's event to record in its one account, at its time, under its id (see {@link AuditService.recordEvent}). */
export interface EventAuditEntry extends Omit<AuditEntry, 'accountIds'> {
  eventId: string;
  accountId: string;
  occurredAt: Date;
}

const FAILURES: ReadonlySet<AuditAction> = new Set<AuditAction>([
  'login.failed',
  'login.throttled',
  'session.refresh-reused',
  'password.change-failed',
  'email.change-failed',
  'login.second-step-failed',
  'mfa.change-failed',
  'service-account.token-refused',
]);

/** The audit trail: written in the transaction of the change it tells of (access's changes: from their events); read per account. */
@Injectable()
export class AuditService {
  constructor(private readonly dataSource: DataSource) {}

  /** Records `entry` once per account in `accountIds` (inside `manager`'s transaction when given). */
  async record(manager: EntityManager | null, entry: AuditEntry): Promise<void> {
    const { sql, parameters } = this.insertStatement(entry, 1);
    await (manager ?? this.dataSource.manager).query(sql, parameters);
  }

  /**
   * The INSERT of `entry` (one row per account), its parameters numbered from `first`: to record
   * an event within another statement (a sign-in writes its session and its audit rows at once),
   * only if `onlyIf` (an SQL condition) holds, when given, with `moreDetails` (an SQL jsonb object) added to its details.
   */
  insertStatement(entry: AuditEntry, first: number, onlyIf?: string, moreDetails?: string): { sql: string; parameters: unknown[] } {
    const accounts = entry.accountIds.length > 0 ? [...new Set(entry.accountIds)] : [null];
    const p = (offset: number) => `$${first + offset}`;
    // `moreDetails`: an SQL jsonb object of details known only in the statement (a count of rows it changed).
    const details = moreDetails ? `coalesce(${p(7)}::jsonb, '{}') || ${moreDetails}` : `${p(7)}::jsonb`;
    // The time is the database's (as access's events have it), so that the trail lists the changes of
    // every service and pod in the order they were made, whatever each pod's clock says.
    return {
      sql: `INSERT INTO audit_events (id, account_id, occurred_at, action, outcome, actor_type, actor_id, target_type, target_id, ip, details)
            SELECT gen_random_uuid(), account, clock_timestamp(), ${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}::uuid, ${p(4)}, ${p(5)}::uuid, ${p(6)}, ${details}
              FROM unnest(${p(8)}::uuid[]) AS account${onlyIf ? ` WHERE ${onlyIf}` : ''}`,
      parameters: [...rowValues(entry), accounts],
    };
  }

  /**
   * Records another service's event once: the row's id is the event's, so the event delivered
   * again (JetStream redelivers until it is acknowledged) writes nothing. True when it wrote the row.
   */
  async recordEvent(entry: EventAuditEntry): Promise<boolean> {
    const written = await this.dataSource.query<unknown[]>(
      `INSERT INTO audit_events (id, account_id, occurred_at, action, outcome, actor_type, actor_id, target_type, target_id, ip, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [entry.eventId, entry.accountId, entry.occurredAt, ...rowValues(entry)],
    );
    return written.length > 0;
  }

  /** A page of one account's audit feed, oldest first: see {@link readAuditFeed}. */
  feed(accountId: string, query: AuditFeedQuery): Promise<AuditFeedPageView> {
    return readAuditFeed(this.dataSource, accountId, query);
  }

  /** A page of one account's audit events, newest first. */
  async list(accountId: string, query: AuditQuery): Promise<Page<AuditEventView>> {
    // An empty window is a mistake (the two swapped, say), not a question with no answer.
    if (query.from && query.to && new Date(query.to) <= new Date(query.from))
      throw new DomainError(ErrorCode.ValidationFailed, 'to must be later than from', { field: 'to' });
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(query.cursor, ['audit'], ['time', 'uuid']);
    const builder = this.dataSource
      .createQueryBuilder(AuditEventEntity, 'e')
      .addSelect(exactTimestamp('e.occurred_at'), 'e_cursor_time')
      .where('e.account_id = :accountId', { accountId })
      .orderBy('e.occurred_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .limit(limit + 1);
    if (query.action) builder.andWhere('e.action = :action', { action: query.action });
    if (query.outcome) builder.andWhere('e.outcome = :outcome', { outcome: query.outcome });
    if (query.actorId) builder.andWhere('e.actor_id = :actorId', { actorId: query.actorId });
    if (query.targetId) builder.andWhere('e.target_id = :targetId', { targetId: query.targetId });
    if (query.from) builder.andWhere('e.occurred_at >= :from', { from: new Date(query.from) });
    if (query.to) builder.andWhere('e.occurred_at < :to', { to: new Date(query.to) });
    if (after) builder.andWhere('(e.occurred_at, e.id) < (:time::timestamptz, :id::uuid)', { time: after[0], id: after[1] });
    const { entities, raw } = await builder.getRawAndEntities<{ e_cursor_time: string }>();
    const page = entities.slice(0, limit);
    const last = page.length === limit && entities.length > limit ? page.length - 1 : -1;
    return {
      items: page.map(toView),
      nextCursor: last >= 0 ? encodeCursor(['audit', raw[last].e_cursor_time, page[last].id]) : null,
    };
  }
}

function outcomeOf(entry: Pick<AuditEntry, 'action' | 'outcome'>): AuditOutcome {
  return entry.outcome ?? (FAILURES.has(entry.action) ? 'failure' : 'success');
}

/** The columns action .. details of an audit row, in the order of every INSERT here. */
function rowValues(entry: Omit<AuditEntry, 'accountIds'>): unknown[] {
  return [
    entry.action,
    outcomeOf(entry),
    entry.actor?.type ?? null,
    entry.actor?.id ?? null,
    entry.target?.type ?? null,
    entry.target?.id ?? null,
    entry.ip ?? null,
    JSON.stringify(entry.details ?? {}),
  ];
}
