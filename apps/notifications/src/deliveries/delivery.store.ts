import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import type { DeliveryStatus, MailTemplate } from '#libs/contracts/index.js';
import type { DeliveryEntity } from './delivery.entity.js';

/** A mail about to be recorded for an event. */
export interface NewDelivery {
  eventId: string;
  eventType: string;
  accountId: string | null;
  recipient: string;
  template: MailTemplate;
  locale: string;
  messageId: string | null;
}

/** The rate limits that apply to one new mail. */
export interface RateLimits {
  /** Mails per recipient per window; 0: none. */
  perRecipient: number;
  /** Mails per account per window; 0: none. */
  perAccount: number;
  windowMinutes: number;
  /** Counted but never suppressed. */
  exempt: boolean;
}

/** What {@link DeliveryStore.claim} found. */
export type Claim =
  /** This caller may send now; `reclaimed`: a previous attempt was cut short (its outcome is unknown). */
  | { kind: 'claimed'; delivery: DeliveryEntity; reclaimed: boolean }
  /** Nothing more to do: sent, failed, dead or suppressed. */
  | { kind: 'final'; status: DeliveryStatus }
  /** Not now: another replica is sending it, or its retry time has not come. */
  | { kind: 'wait'; delayMs: number }
  | { kind: 'missing' };

/** A page request of the delivery log. */
export interface DeliveryPageQuery {
  accountId: string;
  status?: DeliveryStatus;
  template?: MailTemplate;
  limit: number;
  /** The last line of the previous page. */
  after?: { createdAt: string; id: string };
}

/** A delivery log line with its position, for cursors. */
export type PagedDelivery = DeliveryEntity & { position: string };

/** The statuses after which nothing more happens to a mail. */
export const FINAL_STATUSES: readonly DeliveryStatus[] = ['sent', 'failed', 'dead', 'suppressed'];

/** The delivery records: idempotency per event, attempts, the log, and the rate-limit counters. */
export abstract class DeliveryStore {
  /** Records the mail of an event once (later calls change nothing); counts it against the rate limits, recording it `suppressed` when over. */
  abstract admit(delivery: NewDelivery, limits: RateLimits): Promise<void>;
  /** Records an event that cannot make a mail as `failed` (once). */
  abstract admitUnsendable(delivery: NewDelivery, reason: string): Promise<void>;
  /** Takes the mail of an event for one SMTP attempt, if it is due and nobody else holds it. */
  abstract claim(eventId: string, leaseMs: number): Promise<Claim>;
  abstract markSent(eventId: string): Promise<void>;
  abstract markRetry(eventId: string, error: string, retryInMs: number): Promise<void>;
  abstract markFinal(eventId: string, status: 'failed' | 'dead', error: string): Promise<void>;
  /** One page of an account's log, newest first. */
  abstract page(query: DeliveryPageQuery): Promise<PagedDelivery[]>;
  /** Drops counters older than the window; returns how many. */
  abstract pruneRateBuckets(windowMinutes: number): Promise<number>;
}

/** The rate-limit key of a recipient: a hash, so the counters table holds no address. */
export function recipientKey(address: string): string {
  return `r:${createHash('sha256').update(address.trim().toLowerCase()).digest('hex')}`;
}

/** The rate-limit key of an account. */
export function accountKey(accountId: string): string {
  return `a:${accountId}`;
}

/** The start of the current counting bucket: the window is cut in 60 buckets ($2 is the window in minutes, so a bucket lasts $2 seconds). */
const BUCKET = `to_timestamp(floor(extract(epoch FROM now()) / $2::integer) * $2::integer)`;

const COLUMNS = `id, event_id AS "eventId", event_type AS "eventType", account_id AS "accountId", recipient, template, locale, status, attempts,
  last_error AS "lastError", message_id AS "messageId", created_at AS "createdAt", updated_at AS "updatedAt", last_attempt_at AS "lastAttemptAt",
  next_attempt_at AS "nextAttemptAt", lease_until AS "leaseUntil", sent_at AS "sentAt"`;

/**
 * {@link DeliveryStore} on PostgreSQL. Each state change is one statement (atomic by itself);
 * the rate-limit counting runs in one transaction whose bucket row locks serialize concurrent
 * mails to the same recipient or account, so parallel replicas cannot exceed a limit.
 */
@Injectable()
export class PostgresDeliveryStore extends DeliveryStore {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async admit(delivery: NewDelivery, limits: RateLimits): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const inserted = await this.insert(manager, delivery, 'pending', null);
      if (!inserted) return;
      const over = await this.countAgainstLimits(manager, delivery, limits);
      if (over && !limits.exempt) {
        await this.uncount(manager, delivery, limits);
        await manager.query(`UPDATE deliveries SET status = 'suppressed', last_error = $2, updated_at = now() WHERE event_id = $1`, [
          delivery.eventId,
          `rate limit: more than ${over.limit} mails to this ${over.what} in ${limits.windowMinutes} min`,
        ]);
      }
    });
  }

  async admitUnsendable(delivery: NewDelivery, reason: string): Promise<void> {
    await this.insert(this.dataSource.manager, delivery, 'failed', reason);
  }

  async claim(eventId: string, leaseMs: number): Promise<Claim> {
    const claimed = await this.dataSource.query<Array<DeliveryEntity & { previous: DeliveryStatus }>>(
      `WITH previous AS (SELECT id, status FROM deliveries WHERE event_id = $1 FOR UPDATE),
       claimed AS (
         UPDATE deliveries d SET status = 'sending', attempts = d.attempts + 1, last_attempt_at = now(), next_attempt_at = NULL,
           lease_until = now() + make_interval(secs => $2::double precision / 1000), updated_at = now()
         FROM previous
         WHERE d.id = previous.id
           AND ((d.status = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now())) OR (d.status = 'sending' AND d.lease_until <= now()))
         RETURNING d.*, previous.status AS previous
       )
       SELECT ${COLUMNS}, previous FROM claimed`,
      [eventId, leaseMs],
    );
    if (claimed.length === 1) {
      const { previous, ...delivery } = claimed[0];
      return { kind: 'claimed', delivery, reclaimed: previous === 'sending' };
    }
    const [row] = await this.dataSource.query<Array<{ status: DeliveryStatus; waitMs: string | null }>>(
      `SELECT status, ceil(extract(epoch FROM (CASE WHEN status = 'pending' THEN next_attempt_at ELSE lease_until END) - now()) * 1000)::bigint AS "waitMs"
       FROM deliveries WHERE event_id = $1`,
      [eventId],
    );
    if (!row) return { kind: 'missing' };
    if (FINAL_STATUSES.includes(row.status)) return { kind: 'final', status: row.status };
    return { kind: 'wait', delayMs: Math.max(0, Number(row.waitMs ?? 0)) };
  }

  async markSent(eventId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE deliveries SET status = 'sent', sent_at = now(), last_error = NULL, lease_until = NULL, next_attempt_at = NULL, updated_at = now() WHERE event_id = $1`,
      [eventId],
    );
  }

  async markRetry(eventId: string, error: string, retryInMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE deliveries SET status = 'pending', last_error = $2, lease_until = NULL,
         next_attempt_at = now() + make_interval(secs => $3::double precision / 1000), updated_at = now()
       WHERE event_id = $1`,
      [eventId, error, retryInMs],
    );
  }

  async markFinal(eventId: string, status: 'failed' | 'dead', error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE deliveries SET status = $2, last_error = $3, lease_until = NULL, next_attempt_at = NULL, updated_at = now() WHERE event_id = $1`,
      [eventId, status, error],
    );
  }

  async page(query: DeliveryPageQuery): Promise<PagedDelivery[]> {
    const where = ['account_id = $1'];
    const params: unknown[] = [query.accountId];
    const add = (clause: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (query.status) add((n) => `status = ${n}`, query.status);
    if (query.template) add((n) => `template = ${n}`, query.template);
    if (query.after) {
      add((n) => `(created_at, id) < (${n}::timestamptz, $${params.length + 1}::uuid)`, query.after.createdAt);
      params.push(query.after.id);
    }
    params.push(query.limit);
    return this.dataSource.query<PagedDelivery[]>(
      `SELECT ${COLUMNS}, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position
       FROM deliveries WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
  }

  async pruneRateBuckets(windowMinutes: number): Promise<number> {
    const rows = await this.dataSource.query<unknown[]>(
      `WITH gone AS (DELETE FROM mail_rate_buckets WHERE bucket < now() - make_interval(mins => $1::integer + 1) RETURNING 1) SELECT 1 FROM gone`,
      [windowMinutes],
    );
    return rows.length;
  }

  private async insert(manager: EntityManager, delivery: NewDelivery, status: DeliveryStatus, lastError: string | null): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `INSERT INTO deliveries (id, event_id, event_type, account_id, recipient, template, locale, status, attempts, last_error, message_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)
       ON CONFLICT (event_id) DO NOTHING RETURNING id`,
      [
        randomUUID(),
        delivery.eventId,
        delivery.eventType,
        delivery.accountId,
        delivery.recipient,
        delivery.template,
        delivery.locale,
        status,
        lastError,
        delivery.messageId,
      ],
    );
    return rows.length === 1;
  }

  /** Adds the mail to each limited counter; returns the first limit it exceeds, if any. */
  private async countAgainstLimits(manager: EntityManager, delivery: NewDelivery, limits: RateLimits): Promise<{ what: string; limit: number } | null> {
    let over: { what: string; limit: number } | null = null;
    for (const { key, limit, what } of this.counters(delivery, limits)) {
      const [{ total }] = await manager.query<Array<{ total: number }>>(
        `WITH bumped AS (
           INSERT INTO mail_rate_buckets (key, bucket, count) VALUES ($1, ${BUCKET}, 1)
           ON CONFLICT (key, bucket) DO UPDATE SET count = mail_rate_buckets.count + 1
           RETURNING count
         )
         SELECT ((SELECT count FROM bumped) + coalesce((
           SELECT sum(count) FROM mail_rate_buckets WHERE key = $1 AND bucket > now() - make_interval(mins => $2::integer) AND bucket <> ${BUCKET}
         ), 0))::integer AS total`,
        [key, limits.windowMinutes],
      );
      if (total > limit && !over) over = { what, limit };
    }
    return over;
  }

  private async uncount(manager: EntityManager, delivery: NewDelivery, limits: RateLimits): Promise<void> {
    const keys = this.counters(delivery, limits).map((counter) => counter.key);
    await manager.query(`UPDATE mail_rate_buckets SET count = count - 1 WHERE key = ANY($1) AND bucket = ${BUCKET}`, [keys, limits.windowMinutes]);
  }

  private counters(delivery: NewDelivery, limits: RateLimits): Array<{ key: string; limit: number; what: string }> {
    const counters = [];
    if (limits.perRecipient > 0) counters.push({ key: recipientKey(delivery.recipient), limit: limits.perRecipient, what: 'recipient' });
    if (limits.perAccount > 0 && delivery.accountId) counters.push({ key: accountKey(delivery.accountId), limit: limits.perAccount, what: 'account' });
    return counters;
  }
}
