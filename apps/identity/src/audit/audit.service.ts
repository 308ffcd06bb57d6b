import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditAction, AuditEventView, AuditOutcome, AuditQuery, Page, Principal } from '#libs/contracts/index.js';
import { DEFAULT_PAGE_SIZE } from '#libs/contracts/index.js';
import { Clock } from '#libs/platform/index.js';
import { decodeCursor, encodeCursor, exactTimestamp } from '../paging/cursor.js';
import { AuditEventEntity } from './audit-event.entity.js';

/** What an audit event may say beside who, what and whom: plain values, never a secret. */
export type AuditDetails = Record<string, string | number | boolean | null | string[]>;

/** One thing to record. `accountIds`: each account that should see it (none: operators only). */
export interface AuditEntry {
  accountIds: Array<string | null>;
  action: AuditAction;
  outcome?: AuditOutcome;
  actor?: Principal | null;
  target?: Principal | null;
  ip?: string | null;
  details?: AuditDetails;
}

const FAILURES: ReadonlySet<AuditAction> = new Set<AuditAction>(['login.failed', 'login.throttled', 'session.refresh-reused', 'password.change-failed']);

/** The audit trail: written in the transaction of the change it tells of; read per account. */
@Injectable()
export class AuditService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Records `entry` once per account in `accountIds` (inside `manager`'s transaction when given). */
  async record(manager: EntityManager | null, entry: AuditEntry): Promise<void> {
    const accounts = entry.accountIds.length > 0 ? [...new Set(entry.accountIds)] : [null];
    const occurredAt = this.clock.now();
    const rows = accounts.map((accountId) => ({
      id: randomUUID(),
      accountId,
      occurredAt,
      action: entry.action,
      outcome: entry.outcome ?? (FAILURES.has(entry.action) ? 'failure' : 'success'),
      actorType: entry.actor?.type ?? null,
      actorId: entry.actor?.id ?? null,
      targetType: entry.target?.type ?? null,
      targetId: entry.target?.id ?? null,
      ip: entry.ip ?? null,
      details: entry.details ?? {},
    }));
    await (manager ?? this.dataSource.manager).insert(AuditEventEntity, rows);
  }

  /** A page of one account's audit events, newest first. */
  async list(accountId: string, query: AuditQuery): Promise<Page<AuditEventView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(query.cursor, ['audit'], 2);
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

function toView(event: AuditEventEntity): AuditEventView {
  return {
    id: event.id,
    occurredAt: event.occurredAt.toISOString(),
    action: event.action,
    outcome: event.outcome,
    actor: event.actorType && event.actorId ? { type: event.actorType, id: event.actorId } : null,
    target: event.targetType && event.targetId ? { type: event.targetType, id: event.targetId } : null,
    ip: event.ip,
    details: event.details,
  };
}
