import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import type { DeliveryStatus, MailTemplate } from '#libs/contracts/index.js';
import { LockClass, lockForTransaction, tryLockForTransaction } from '#libs/platform/storage.js';
import { countedAddress, EVENT_MEMORY_DAYS, type RateBudget } from './delivery-policy.js';
import type { DeliveryEntity } from './delivery.entity.js';

/** A mail about to be recorded for an event. */
export interface NewDelivery {
  /** The mail's key (`deliveryKey`): its event's id, or a key derived from it for an event that makes several mails. */
  eventId: string;
  /** The event, when `eventId` is a key derived from its id; null when `eventId` is the event's own id. */
  sourceEventId: string | null;
  eventType: string;
  accountId: string | null;
  recipient: string;
  template: MailTemplate;
  locale: string;
  messageId: string | null;
}

/** The rate limits that apply to one new mail: those of the budget it is counted in. */
export interface RateLimits {
  /** The budget: the mail is counted only against this budget's counters (of its recipient and its account). */
  budget: RateBudget;
  /** Mails of the budget per recipient per window; 0: none. */
  perRecipient: number;
  /** Mails of the budget per account per window; 0: none. */
  perAccount: number;
  windowMinutes: number;
  /**
   * Until when a mail over a limit may wait for room in the window instead of being suppressed
   * (a mail carrying a link: `rateWaitUntil` in delivery-policy.ts); null or absent: suppressed at once.
   */
  waitUntil?: Date | null;
}

/**
 * The link a mail carries, as the store needs it to decide whether the mail may still go: the
 * name of its token (`linkTokenHash`, as `identity.links.voided` names voided links) and whether
 * it has expired.
 */
export interface CarriedLink {
  tokenHash: string;
  expired: boolean;
}

/** What {@link DeliveryStore.claim} found. */
export type Claim =
  /** This caller may send now; `reclaimed`: a previous attempt was cut short (its outcome is unknown). */
  | { kind: 'claimed'; delivery: DeliveryEntity; reclaimed: boolean }
  /**
   * Its link died (voided or expired): recorded `cancelled` now, not to be sent (again); `reason`
   * says why. `reclaimed`: an earlier attempt stopped mid-send (its replica died), so the mail may
   * have gone out already (the reason says so too).
   */
  | { kind: 'cancelled'; reason: string; reclaimed: boolean }
  /** Nothing more to do: sent, failed, dead, suppressed or cancelled; `justRecorded`: a new mail recorded `suppressed` by this very call. */
  | { kind: 'final'; status: DeliveryStatus; justRecorded?: boolean }
  /**
   * Not now: its retry time has not come (`retry`), it waits for room under a rate limit (`room`),
   * a replica is sending it (`sending`: at most until its lease ends), or its wait for room is
   * over but another transaction holds the lock of a counter it is counted against (`counter`:
   * back in a moment, `delayMs` 0, the caller chooses).
   */
  | { kind: 'wait'; delayMs: number; because: 'retry' | 'room' | 'sending' | 'counter' }
  | { kind: 'missing' };

/**
 * What {@link DeliveryStore.countWaiting} found of a mail that may wait for room, before any
 * sending slot is taken: no record yet (`new`: admit it, {@link DeliveryStore.admitAndClaim}); a
 * record that needs no counting now, or whose wait just ended and which was counted within the
 * limits (`claimable`: {@link DeliveryStore.claim} it); or what becomes of it otherwise (waiting
 * again, cancelled, suppressed, done).
 */
export type WaitingCount = { kind: 'new' } | { kind: 'claimable' } | Exclude<Claim, { kind: 'claimed' | 'missing' }>;

/**
 * What proves an attempt still holds the claim on a mail: the mail's key (`eventId`, as in
 * {@link NewDelivery}), and the attempt number its claim gave. Renewing the lease and recording the outcome succeed only while the row is still
 * `sending` with that attempt number, so an attempt that lost its claim (its lease ran out and
 * another replica took the mail) cannot overwrite what the later attempt records.
 */
export interface ClaimTicket {
  eventId: string;
  attempt: number;
}

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
export const FINAL_STATUSES: readonly DeliveryStatus[] = ['sent', 'failed', 'dead', 'suppressed', 'cancelled'];

/** How long a voided link is remembered: as long as the events stream keeps an event that may carry it (7 days), and a day more. */
export const VOIDED_LINK_MEMORY_DAYS = EVENT_MEMORY_DAYS;

/** The delivery records: idempotency per mail (by its key, see {@link NewDelivery}), attempts, the log, and the rate-limit counters. */
export abstract class DeliveryStore {
  /**
   * Records the mail of an event once (later calls change nothing); counts it against the rate
   * limits, recording it `suppressed` when over, or `pending` waiting for room when it may wait
   * (`limits.waitUntil`). A call once a waiting mail's time came counts it again.
   */
  abstract admit(delivery: NewDelivery, limits: RateLimits): Promise<void>;
  /**
   * {@link admit}, then {@link claim}: a new mail within the limits is recorded already claimed (one
   * round trip); a new mail whose `link` died is recorded `cancelled` instead, uncounted. A mail
   * that waited for room and whose time came is counted then, and claimed if within the limits.
   */
  abstract admitAndClaim(delivery: NewDelivery, limits: RateLimits, leaseMs: number, link?: CarriedLink | null): Promise<Claim>;
  /**
   * For a mail that may wait for room (`limits.waitUntil`), whose `link` is given: counts it if it
   * waited and its time came, without waiting for the locks of its counters (a return that finds
   * one held by another transaction is told to come back, `counter`), and records it `pending`,
   * counted, to be claimed; or waiting again, cancelled (its link died), or suppressed (no room in
   * time), as {@link admitAndClaim} would. Neither claims it nor touches a mail it finds in any
   * other state. Meant to be called before a sending slot is taken: a return that ends waiting
   * again never holds one.
   */
  abstract countWaiting(delivery: NewDelivery, limits: RateLimits, link: CarriedLink): Promise<WaitingCount>;
  /** Records an event that cannot make a mail as `failed` (once); true when this call recorded it. */
  abstract admitUnsendable(delivery: NewDelivery, reason: string): Promise<boolean>;
  /**
   * Takes the mail of an event for one SMTP attempt, if it is due and nobody else holds it. If its
   * `link` died, a mail nobody holds (`pending`, due or not, or `sending` past its lease) is
   * recorded `cancelled` instead, in the same statement.
   */
  abstract claim(eventId: string, leaseMs: number, link?: CarriedLink | null): Promise<Claim>;
  /** Extends the lease of a claim still held to now + `leaseMs`; false when the claim is gone. */
  abstract renewLease(ticket: ClaimTicket, leaseMs: number): Promise<boolean>;
  /**
   * Records the mail `sent`; false (nothing changed) when it already was. Unlike the other marks it
   * does not need the claim: that the server accepted the mail is a fact whichever attempt learns
   * it, and recording it over a later attempt's failure spares the recipient one more copy.
   */
  abstract markSent(eventId: string): Promise<boolean>;
  /** Puts the mail back `pending` until its next attempt, if the claim is still held; false (nothing changed) otherwise. */
  abstract markRetry(ticket: ClaimTicket, error: string, retryInMs: number): Promise<boolean>;
  /** Records the mail `failed` or `dead`, if the claim is still held; false (nothing changed) otherwise. */
  abstract markFinal(ticket: ClaimTicket, status: 'failed' | 'dead', error: string): Promise<boolean>;
  /** Remembers links identity voided (by the hash of their token, `linkTokenHash`), so that no mail carries them afterwards. */
  abstract voidLinks(tokenHashes: string[]): Promise<void>;
  /** Forgets voided links older than {@link VOIDED_LINK_MEMORY_DAYS}; returns how many. */
  abstract pruneVoidedLinks(): Promise<number>;
  /** One page of an account's log, newest first. */
  abstract page(query: DeliveryPageQuery): Promise<PagedDelivery[]>;
  /** Drops counters older than the window; returns how many. */
  abstract pruneRateBuckets(windowMinutes: number): Promise<number>;
  /**
   * Deletes up to `limit` records of mails done ({@link FINAL_STATUSES}) that were recorded more
   * than `retentionDays` ago, oldest first, skipping any another transaction holds; returns how
   * many. A mail still `pending` or `sending` is kept (see {@link abandonOrphans}). `retentionDays` is at least
   * {@link EVENT_MEMORY_DAYS} (a RangeError otherwise): a record is what keeps its event from
   * mailing twice, so it must outlive every delivery of that event.
   */
  abstract pruneDeliveryLog(retentionDays: number, limit: number): Promise<number>;
  /**
   * Marks `dead`, with {@link ABANDONED_ERROR}, up to `limit` mails still `pending` or `sending`
   * that were recorded more than {@link EVENT_MEMORY_DAYS} ago, oldest first, skipping any another
   * transaction holds and any a replica is sending now (its lease not over); returns how many. Retries end well within the days the stream keeps their
   * event, so such a mail's event is gone (a stream purged, a consumer made again): nothing would
   * ever try it again, and its line would be kept for ever.
   */
  abstract abandonOrphans(limit: number): Promise<number>;
}

/** What the delivery log says of a mail whose event left the stream before it was done. */
export const ABANDONED_ERROR = 'Abandoned: its event left the events stream before this mail was done; it may not have been sent, and nothing will try again';

/**
 * The prefixes of each budget's counters, of a recipient and of an account. The `standard` budget
 * keeps the keys every mail was counted under before budgets existed, so its counts carry over.
 */
const KEY_PREFIXES: Record<RateBudget, { recipient: string; account: string }> = {
  standard: { recipient: 'r', account: 'a' },
  'self-service': { recipient: 'rs', account: 'as' },
  notice: { recipient: 'rn', account: 'an' },
};

/** The rate-limit key of a recipient in a budget: a hash of the address as counted (`countedAddress`), so the counters table holds no address. */
export function recipientKey(address: string, budget: RateBudget): string {
  return `${KEY_PREFIXES[budget].recipient}:${createHash('sha256').update(countedAddress(address)).digest('hex')}`;
}

/** The rate-limit key of an account in a budget. */
export function accountKey(accountId: string, budget: RateBudget): string {
  return `${KEY_PREFIXES[budget].account}:${accountId}`;
}

/** What a suppressed mail's reason says was counted, by budget. */
const COUNTED_AS: Record<RateBudget, string> = { standard: 'mails', 'self-service': 'self-service password resets', notice: 'security notices' };

/** The start of the current counting bucket: the window is cut in 60 buckets ($12 is the window in minutes, so a bucket lasts $12 seconds). */
const BUCKET = `to_timestamp(floor(extract(epoch FROM now()) / $12::integer) * $12::integer)`;

/** The mails counted for `key` in the window, before the current bucket ($12 is the window in minutes). */
function olderSum(key: string): string {
  return `SELECT coalesce(sum(count), 0)::integer AS n FROM mail_rate_buckets
    WHERE key = ${key} AND bucket > now() - make_interval(mins => $12::integer) AND bucket <> ${BUCKET}`;
}

/** The lock of the link whose token's name is `tokenHash`. */
function linkLock(tokenHash: string): { lockClass: number; key: string } {
  return { lockClass: LockClass.MailLink, key: tokenHash };
}

/**
 * The locks of the counters a mail is counted against (those whose limit is not 0): the
 * recipient's, then the account's, of its budget. With the lock of the mail's link
 * ({@link linkLock}) before them, they serialize recording a mail against the voiding of its link
 * (see {@link PostgresDeliveryStore.voidLinks}) and its counting against every other mail of those
 * counters. Every caller that waits for them takes the link's first, then the recipient's, then the
 * account's, at most one of each; the voiding takes only links' locks, in the order of their
 * names; a returning waiting mail only tries the counters' ({@link PostgresDeliveryStore.countWaiting}).
 * So no two callers can wait for each other in a circle.
 */
function counterLocks(delivery: NewDelivery, limits: RateLimits): Array<{ lockClass: number; key: string }> {
  const accountLimit = delivery.accountId ? limits.perAccount : 0;
  return [
    ...(limits.perRecipient > 0 ? [{ lockClass: LockClass.MailRecipientCounter, key: recipientKey(delivery.recipient, limits.budget) }] : []),
    ...(accountLimit > 0 ? [{ lockClass: LockClass.MailAccountCounter, key: accountKey(delivery.accountId!, limits.budget) }] : []),
  ];
}

/** What became of a mail that waited, as {@link PostgresDeliveryStore.countAndRecord} left it (unclaimed). */
function waitingCountOf({ waitMs, status, rateWaitUntil, lastError }: RecordedDelivery): WaitingCount {
  if (status === 'cancelled') return { kind: 'cancelled', reason: lastError ?? '', reclaimed: false };
  if (status === 'suppressed') return { kind: 'final', status: 'suppressed', justRecorded: true };
  if (rateWaitUntil) return { kind: 'wait', delayMs: Math.max(0, Number(waitMs ?? 0)), because: 'room' };
  return { kind: 'claimable' };
}

/** Text PostgreSQL can store: without NUL characters, which its text type refuses (an event carrying one would otherwise fail for ever). */
function storable(text: string): string {
  return text.replace(/\u0000/g, '');
}

/** A new mail's texts, storable. */
function storableDelivery(delivery: NewDelivery): NewDelivery {
  return {
    ...delivery,
    eventType: storable(delivery.eventType),
    recipient: storable(delivery.recipient),
    locale: storable(delivery.locale),
    messageId: delivery.messageId === null ? null : storable(delivery.messageId),
  };
}

/** The first seven values of a new row ($1-$7): a fresh id, then the event and mail columns in table order up to the locale. */
function newRowValues(delivery: NewDelivery): unknown[] {
  return [randomUUID(), delivery.eventId, delivery.eventType, delivery.accountId, delivery.recipient, delivery.template, delivery.locale];
}

/** Said of a mail cancelled after an attempt that stopped mid-send: it may have been delivered. */
export const MAY_HAVE_GONE = 'an earlier attempt stopped mid-send and may have delivered it';

/**
 * Why a mail's link died, or NULL while it works: `expired` ($expired, a boolean) or voided (its
 * token's name, $tokenHash, in voided_links). A mail without a link passes NULL and false.
 */
function deadLinkReason(tokenHash: string, expired: string): string {
  return `SELECT CASE WHEN ${expired}::boolean THEN 'link expired before the mail could go out'
    WHEN ${tokenHash}::text IS NOT NULL AND EXISTS (SELECT 1 FROM voided_links WHERE token_hash = ${tokenHash}::text)
      THEN '${VOIDED_WHILE_WAITING}' END AS reason`;
}

/** The condition of every change an attempt makes to its mail: the claim ($1 event, $2 attempt) is still its own. */
const CLAIM_HELD = `event_id = $1 AND status = 'sending' AND attempts = $2`;

const COLUMNS = `id, event_id AS "eventId", source_event_id AS "sourceEventId", event_type AS "eventType", account_id AS "accountId", recipient, template, locale, status, attempts,
  last_error AS "lastError", message_id AS "messageId", created_at AS "createdAt", updated_at AS "updatedAt", last_attempt_at AS "lastAttemptAt",
  next_attempt_at AS "nextAttemptAt", lease_until AS "leaseUntil", sent_at AS "sentAt", rate_wait_until AS "rateWaitUntil",
  wait_ended_at AS "waitEndedAt", rate_wait_key AS "rateWaitKey",
  link_token_hash AS "linkTokenHash"`;

/** A mail as {@link PostgresDeliveryStore.countAndRecord} left it: with the milliseconds until its next attempt, by the database's clock. */
type RecordedDelivery = DeliveryEntity & { waitMs: string | null };

const RECORDED_COLUMNS = `${COLUMNS}, ceil(extract(epoch FROM next_attempt_at - now()) * 1000)::bigint AS "waitMs"`;

/** Why a mail whose link was voided is cancelled, by its claim or, waiting for room, by the voiding. */
const VOIDED_WHILE_WAITING = 'link voided before the mail could go out';

/** Added to the rate limit's reason of a mail waiting for room. */
export const WAITING_FOR_ROOM = '; waiting for room in the window';
/** Added to the rate limit's reason of a mail that could have waited, but the window has no room before it must go (MAIL_RATE_MAX_WAIT_MINUTES, or its link's expiry). */
export const NO_ROOM_IN_TIME = "; no room in the window before its wait had to end (MAIL_RATE_MAX_WAIT_MINUTES or its link's expiry)";

/**
 * How long after now a mail that may wait, held back because an older mail waits on one of its
 * counters, comes back at the soonest (the older one's return is usually later: see `ahead` in
 * {@link PostgresDeliveryStore.countAndRecord}): past the retry of a return that found its counter
 * busy, so that a younger mail does not come back again and again while the older one retries.
 */
export const QUEUED_RETURN_MS = 2500;
/** How long after the return of the mail waiting before it on the same counter a waiting mail returns: returns go one at a time, in the order the mails came. */
export const RETURN_STEP_MS = 50;
/**
 * How long past its set return a waiting mail that has not come back still holds its place in its
 * counter's order: one overdue by more (its event lost: a stream purged, a consumer made again)
 * would otherwise hold back every newer mail of its counter until its wait ends, though the window
 * has room. Far above a return's lateness in a busy consumer; a mail overdue by more that does come
 * back is counted as any other.
 */
export const LOST_RETURN_MINUTES = 10;

/**
 * The condition that the mail `q` waits for room, on a counter that `onCounter` names, and came
 * before the mail being counted (`me`: its time and id). A mail past the end of its wait is
 * suppressed when it returns, and one whose return is overdue by more than {@link LOST_RETURN_MINUTES}
 * may never return: neither holds a place. Found through `deliveries_waiting_by_counter`.
 */
function waitingBefore(q: string, onCounter: string): string {
  return `${onCounter} AND ${q}.status = 'pending' AND ${q}.rate_wait_until IS NOT NULL AND ${q}.rate_wait_until > now()
    AND ${q}.next_attempt_at > now() - make_interval(mins => ${LOST_RETURN_MINUTES})
    AND (${q}.created_at, ${q}.id) < (me.since, me.id)`;
}

/**
 * When the window of the counter named by `key` (an SQL expression) next has room: when the
 * oldest mail it counts leaves the window ($12 is the window in minutes); NULL when it counts none.
 */
function roomAt(key: string): string {
  return `SELECT min(bucket) + make_interval(mins => $12::integer) AS at FROM mail_rate_buckets, verdict
    WHERE key = ${key} AND bucket > now() - make_interval(mins => $12::integer)`;
}

/**
 * {@link DeliveryStore} on PostgreSQL. Each step is atomic (a mail costs two steps: admit and
 * claim in one statement, which also cancels a mail whose link died; mark sent). Counting a mail against a rate limit reads the whole window, so the counting
 * of one recipient's (and one account's) mails is serialized by a transaction-scoped advisory
 * lock taken before the counting statement starts: that statement's snapshot then holds every
 * mail counted before it, on any replica, and a limit cannot be overshot, also across a bucket
 * boundary.
 */
@Injectable()
export class PostgresDeliveryStore extends DeliveryStore {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  /**
   * If the event has no record yet, count the mail against the recipient's limit, then (only if it
   * passed) against the account's, and insert the record `pending`, or `suppressed` when a limit
   * said no. A counter only moves when it stays within its limit. (Two copies of one event admitted
   * at the very same instant may count it twice: a conservative error.)
   */
  async admit(delivery: NewDelivery, limits: RateLimits): Promise<void> {
    await this.record(delivery, limits, null, null);
  }

  async admitAndClaim(delivery: NewDelivery, limits: RateLimits, leaseMs: number, link: CarriedLink | null = null): Promise<Claim> {
    const [recorded] = await this.record(delivery, limits, leaseMs, link);
    if (!recorded) return this.claim(delivery.eventId, leaseMs, link);
    const { waitMs, ...row } = recorded;
    if (row.status === 'cancelled') return { kind: 'cancelled', reason: row.lastError ?? '', reclaimed: false };
    if (row.status === 'suppressed') return { kind: 'final', status: 'suppressed', justRecorded: true };
    if (row.status === 'pending') return { kind: 'wait', delayMs: Math.max(0, Number(waitMs ?? 0)), because: 'room' };
    return { kind: 'claimed', delivery: row, reclaimed: false };
  }

  /**
   * Under the link's lock (so that no other replica counts, claims or cancels the mail meanwhile):
   * a mail not waiting for room is left to {@link claim}; one whose time has not come is only
   * cancelled if its link died; one whose time came is counted if its counters' locks are free
   * at once ({@link tryLockForTransaction}), by the same statement as a new mail, unclaimed.
   */
  async countWaiting(unsafe: NewDelivery, limits: RateLimits, link: CarriedLink): Promise<WaitingCount> {
    const delivery = storableDelivery(unsafe);
    return this.dataSource.transaction(async (manager) => {
      await lockForTransaction(manager, [linkLock(link.tokenHash)]);
      const [row] = await manager.query<Array<{ waiting: boolean; due: boolean }>>(
        `SELECT status = 'pending' AND rate_wait_until IS NOT NULL AS waiting, next_attempt_at <= now() AS due FROM deliveries WHERE event_id = $1`,
        [delivery.eventId],
      );
      if (!row) return { kind: 'new' };
      if (!row.waiting) return { kind: 'claimable' };
      // Cannot claim it: a mail waiting for room is never claimed, and nothing else changes it while the link's lock is held.
      if (!row.due) return (await this.claimWith(manager, delivery.eventId, 0, link)) as WaitingCount;
      if (!(await tryLockForTransaction(manager, counterLocks(delivery, limits)))) return { kind: 'wait', delayMs: 0, because: 'counter' };
      const [recorded] = await this.countAndRecord(manager, delivery, limits, null, link);
      return recorded ? waitingCountOf(recorded) : { kind: 'claimable' };
    });
  }

  /**
   * Inserts the record of a new event (claimed for `leaseMs` when given), or counts a mail whose
   * wait for room is over; returns the record, or nothing when the event had one and it was not
   * waiting for room, or not yet due. A mail that a limit may suppress first waits for the counting of every
   * other mail of its budget to its recipient and account to commit, and a mail carrying a link for
   * a voiding of that link under way (see {@link counterLocks}); a mail without a link that no
   * limit applies to needs no wait and costs one statement.
   */
  private async record(unsafe: NewDelivery, limits: RateLimits, leaseMs: number | null, link: CarriedLink | null): Promise<RecordedDelivery[]> {
    const delivery = storableDelivery(unsafe);
    const locks = [...(link ? [linkLock(link.tokenHash)] : []), ...counterLocks(delivery, limits)];
    if (locks.length === 0) return this.countAndRecord(this.dataSource.manager, delivery, limits, leaseMs, link);
    return this.dataSource.transaction(async (manager) => {
      await lockForTransaction(manager, locks);
      return this.countAndRecord(manager, delivery, limits, leaseMs, link);
    });
  }

  /**
   * The statement of {@link record}: counts the mail within its budget's limits and inserts its
   * record (`cancelled`, uncounted, when its link died), or, for a mail that waited for room and
   * whose time has come, counts it and updates its record alike. A mail over a limit is recorded
   * `suppressed`, or `pending` until the window has room if it may wait ({@link RateLimits.waitUntil}
   * for a new mail, its `rate_wait_until` for one that waited) and room comes before then. A mail that
   * may wait and that the account's limit would refuse is held back (`held`) before its recipient's
   * is counted: it waits without using its recipient's room, at each return too.
   */
  private countAndRecord(
    manager: EntityManager,
    delivery: NewDelivery,
    limits: RateLimits,
    leaseMs: number | null,
    link: CarriedLink | null,
  ): Promise<RecordedDelivery[]> {
    const recipientLimit = limits.perRecipient;
    const accountLimit = delivery.accountId ? limits.perAccount : 0;
    const reason = (what: string, limit: number) =>
      `rate limit: more than ${limit} ${COUNTED_AS[limits.budget]} to this ${what} in ${limits.windowMinutes} min`;
    return manager.query<RecordedDelivery[]>(
      `WITH waited AS (
         SELECT id AS waited_id, rate_wait_until AS waited_until, created_at AS waited_since FROM deliveries
         WHERE event_id = $2 AND status = 'pending' AND rate_wait_until IS NOT NULL AND next_attempt_at <= now()
         FOR UPDATE
       ),
       fresh AS (SELECT NOT EXISTS (SELECT 1 FROM deliveries WHERE event_id = $2) AS yes),
       dead AS (${deadLinkReason('$17', '$18')}),
       live AS (SELECT (fresh.yes OR EXISTS (SELECT 1 FROM waited)) AND dead.reason IS NULL AS yes FROM fresh, dead),
       wait AS (SELECT coalesce((SELECT waited_until FROM waited), $20::timestamptz) AS until),
       me AS (SELECT coalesce((SELECT waited_since FROM waited), now()) AS since, coalesce((SELECT waited_id FROM waited), $1::uuid) AS id),
       queued AS (
         SELECT coalesce(bool_or(q.rate_wait_key = $9::text), false) AS r, coalesce(bool_or(q.rate_wait_key = $11::text), false) AS a
         FROM wait, me, deliveries q
         WHERE wait.until IS NOT NULL AND ${waitingBefore('q', 'q.rate_wait_key IN ($9::text, $11::text)')}
       ),
       a_older AS (${olderSum('$11')}),
       held AS (
         SELECT live.yes AND wait.until IS NOT NULL AND (queued.a OR $13::integer > 0
           AND a_older.n + coalesce((SELECT count FROM mail_rate_buckets WHERE key = $11::text AND bucket = ${BUCKET}), 0) + 1 > $13::integer) AS yes
         FROM live, wait, a_older, queued
       ),
       r_older AS (${olderSum('$9')}),
       r AS (
         INSERT INTO mail_rate_buckets (key, bucket, count)
         SELECT $9::text, ${BUCKET}, 1 FROM live, held, r_older, queued
         WHERE live.yes AND NOT held.yes AND NOT queued.r AND $10::integer > 0 AND r_older.n + 1 <= $10::integer
         ON CONFLICT (key, bucket) DO UPDATE SET count = mail_rate_buckets.count + 1
           WHERE mail_rate_buckets.count + (SELECT n FROM r_older) < $10::integer
         RETURNING 1
       ),
       r_ok AS (SELECT ($10::integer = 0 OR EXISTS (SELECT 1 FROM r)) AS yes),
       a AS (
         INSERT INTO mail_rate_buckets (key, bucket, count)
         SELECT $11::text, ${BUCKET}, 1 FROM live, held, r_ok, a_older
         WHERE live.yes AND NOT held.yes AND r_ok.yes AND $13::integer > 0 AND a_older.n + 1 <= $13::integer
         ON CONFLICT (key, bucket) DO UPDATE SET count = mail_rate_buckets.count + 1
           WHERE mail_rate_buckets.count + (SELECT n FROM a_older) < $13::integer
         RETURNING 1
       ),
       verdict AS (
         SELECT CASE WHEN held.yes THEN $15::text WHEN NOT r_ok.yes THEN $14::text WHEN NOT ($13::integer = 0 OR EXISTS (SELECT 1 FROM a)) THEN $15::text END AS over,
           CASE WHEN held.yes OR r_ok.yes THEN $11::text ELSE $9::text END AS over_key
         FROM r_ok, held
       ),
       counter_room AS (${roomAt('verdict.over_key')}),
       ahead AS (
         SELECT max(q.next_attempt_at) AS last FROM wait, verdict, me, deliveries q
         WHERE wait.until IS NOT NULL AND verdict.over IS NOT NULL AND ${waitingBefore('q', 'q.rate_wait_key = verdict.over_key')}
       ),
       soonest AS (
         SELECT CASE WHEN queued.r OR queued.a THEN now() + make_interval(secs => $23::double precision / 1000) ELSE counter_room.at END AS at
         FROM queued, counter_room
       ),
       room AS (
         SELECT soonest.at AS base, least(greatest(soonest.at, ahead.last + make_interval(secs => $24::double precision / 1000)), wait.until) AS at
         FROM soonest, ahead, wait
       ),
       outcome AS (
         SELECT CASE WHEN dead.reason IS NOT NULL THEN 'cancelled'
             WHEN verdict.over IS NULL THEN CASE WHEN claim.lease IS NULL THEN 'pending' ELSE 'sending' END
             WHEN room.base < wait.until THEN 'pending' ELSE 'suppressed' END AS new_status,
           dead.reason IS NULL AND verdict.over IS NULL AND claim.lease IS NOT NULL AS claimed,
           dead.reason IS NULL AND verdict.over IS NOT NULL AND room.base < wait.until AS waits,
           coalesce(dead.reason, verdict.over || CASE WHEN wait.until IS NULL THEN '' WHEN room.base < wait.until THEN $21::text ELSE $22::text END) AS reason,
           room.at AS room_at, wait.until AS wait_until, verdict.over_key, claim.lease
         FROM verdict, dead, room, wait, (SELECT make_interval(secs => $16::double precision / 1000) AS lease) AS claim
       ),
       inserted AS (
         INSERT INTO deliveries (id, event_id, event_type, account_id, recipient, template, locale, status, attempts, last_error, message_id,
           last_attempt_at, lease_until, source_event_id, next_attempt_at, rate_wait_until, rate_wait_key, link_token_hash)
         SELECT $1::uuid, $2::uuid, $3::text, $4::uuid, $5::text, $6::text, $7::text, new_status, CASE WHEN claimed THEN 1 ELSE 0 END, reason, $8::text,
           CASE WHEN claimed THEN now() END, CASE WHEN claimed THEN now() + lease END, $19::uuid,
           CASE WHEN waits THEN room_at END, CASE WHEN waits THEN wait_until END, CASE WHEN waits THEN over_key END, CASE WHEN waits THEN $17::text END
         FROM outcome, fresh WHERE fresh.yes
         ON CONFLICT (event_id) DO NOTHING
         RETURNING ${RECORDED_COLUMNS}
       ),
       released AS (
         UPDATE deliveries d SET status = new_status, attempts = d.attempts + CASE WHEN claimed THEN 1 ELSE 0 END, last_error = reason,
           last_attempt_at = CASE WHEN claimed THEN now() ELSE d.last_attempt_at END, lease_until = CASE WHEN claimed THEN now() + lease END,
           next_attempt_at = CASE WHEN waits THEN room_at END, rate_wait_until = CASE WHEN waits THEN wait_until END, updated_at = now(),
           rate_wait_key = CASE WHEN waits THEN over_key END, link_token_hash = CASE WHEN waits THEN $17::text END,
           wait_ended_at = CASE WHEN new_status IN ('pending', 'sending') AND NOT waits THEN now() END
         FROM waited, outcome WHERE d.id = waited.waited_id
         RETURNING ${RECORDED_COLUMNS}
       )
       SELECT * FROM inserted UNION ALL SELECT * FROM released`,
      [
        ...newRowValues(delivery),
        delivery.messageId,
        recipientKey(delivery.recipient, limits.budget),
        recipientLimit,
        delivery.accountId ? accountKey(delivery.accountId, limits.budget) : 'a:-',
        limits.windowMinutes,
        accountLimit,
        reason('recipient', recipientLimit),
        reason('account', accountLimit),
        leaseMs,
        link?.tokenHash ?? null,
        link?.expired ?? false,
        delivery.sourceEventId,
        limits.waitUntil ?? null,
        WAITING_FOR_ROOM,
        NO_ROOM_IN_TIME,
        QUEUED_RETURN_MS,
        RETURN_STEP_MS,
      ],
    );
  }

  async admitUnsendable(delivery: NewDelivery, reason: string): Promise<boolean> {
    return this.insert(this.dataSource.manager, storableDelivery(delivery), 'failed', storable(reason));
  }

  /**
   * A claim of a mail carrying a link first waits for a voiding of that link under way to commit
   * (see {@link counterLocks}), so that it sees it: without, the two at once could each miss the
   * other, and the mail go out with a link voided a moment before.
   */
  async claim(eventId: string, leaseMs: number, link: CarriedLink | null = null): Promise<Claim> {
    if (!link) return this.claimWith(this.dataSource.manager, eventId, leaseMs, null);
    return this.dataSource.transaction(async (manager) => {
      await lockForTransaction(manager, [linkLock(link.tokenHash)]);
      return this.claimWith(manager, eventId, leaseMs, link);
    });
  }

  private async claimWith(manager: EntityManager, eventId: string, leaseMs: number, link: CarriedLink | null): Promise<Claim> {
    const claimed = await manager.query<Array<DeliveryEntity & { previous: DeliveryStatus }>>(
      `WITH previous AS (SELECT id, status FROM deliveries WHERE event_id = $1 FOR UPDATE),
       dead AS (${deadLinkReason('$3', '$4')}),
       cancelled AS (
         UPDATE deliveries d SET status = 'cancelled', lease_until = NULL, next_attempt_at = NULL, rate_wait_until = NULL, rate_wait_key = NULL,
           link_token_hash = NULL, updated_at = now(),
           last_error = dead.reason || CASE WHEN d.status = 'sending' THEN '; ' || $5::text ELSE '' END
         FROM previous, dead
         WHERE d.id = previous.id AND dead.reason IS NOT NULL AND (d.status = 'pending' OR (d.status = 'sending' AND d.lease_until <= now()))
         RETURNING d.*, previous.status AS previous
       ),
       claimed AS (
         UPDATE deliveries d SET status = 'sending', attempts = d.attempts + 1, last_attempt_at = now(), next_attempt_at = NULL,
           lease_until = now() + make_interval(secs => $2::double precision / 1000), updated_at = now()
         FROM previous, dead
         WHERE d.id = previous.id AND dead.reason IS NULL
           AND ((d.status = 'pending' AND d.rate_wait_until IS NULL AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now()))
             OR (d.status = 'sending' AND d.lease_until <= now()))
         RETURNING d.*, previous.status AS previous
       )
       SELECT ${COLUMNS}, previous FROM claimed UNION ALL SELECT ${COLUMNS}, previous FROM cancelled`,
      [eventId, leaseMs, link?.tokenHash ?? null, link?.expired ?? false, MAY_HAVE_GONE],
    );
    if (claimed.length === 1) {
      const { previous, ...delivery } = claimed[0];
      if (delivery.status === 'cancelled') return { kind: 'cancelled', reason: delivery.lastError ?? '', reclaimed: previous === 'sending' };
      return { kind: 'claimed', delivery, reclaimed: previous === 'sending' };
    }
    const [row] = await manager.query<Array<{ status: DeliveryStatus; waitMs: string | null; forRoom: boolean }>>(
      `SELECT status, rate_wait_until IS NOT NULL AS "forRoom", ceil(extract(epoch FROM (CASE WHEN status = 'pending' THEN next_attempt_at ELSE lease_until END) - now()) * 1000)::bigint AS "waitMs"
       FROM deliveries WHERE event_id = $1`,
      [eventId],
    );
    if (!row) return { kind: 'missing' };
    if (FINAL_STATUSES.includes(row.status)) return { kind: 'final', status: row.status };
    return { kind: 'wait', delayMs: Math.max(0, Number(row.waitMs ?? 0)), because: row.status === 'sending' ? 'sending' : row.forRoom ? 'room' : 'retry' };
  }

  async renewLease(ticket: ClaimTicket, leaseMs: number): Promise<boolean> {
    return this.updateHeld(ticket, `lease_until = now() + make_interval(secs => $3::double precision / 1000)`, [leaseMs]);
  }

  async markSent(eventId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `WITH marked AS (
         UPDATE deliveries SET status = 'sent', sent_at = now(), last_error = NULL, lease_until = NULL, next_attempt_at = NULL, updated_at = now()
         WHERE event_id = $1 AND status <> 'sent' RETURNING 1
       )
       SELECT 1 FROM marked`,
      [eventId],
    );
    return rows.length === 1;
  }

  async markRetry(ticket: ClaimTicket, error: string, retryInMs: number): Promise<boolean> {
    return this.updateHeld(
      ticket,
      `status = 'pending', last_error = $3, lease_until = NULL, next_attempt_at = now() + make_interval(secs => $4::double precision / 1000), updated_at = now()`,
      [storable(error), retryInMs],
    );
  }

  async markFinal(ticket: ClaimTicket, status: 'failed' | 'dead', error: string): Promise<boolean> {
    return this.updateHeld(ticket, `status = $3, last_error = $4, lease_until = NULL, next_attempt_at = NULL, updated_at = now()`, [status, storable(error)]);
  }

  /** Applies `assignments` (their parameters from $3) to the mail of a claim still held; true when it was. */
  private async updateHeld(ticket: ClaimTicket, assignments: string, params: unknown[] = []): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `WITH held AS (UPDATE deliveries SET ${assignments} WHERE ${CLAIM_HELD} RETURNING 1) SELECT 1 FROM held`,
      [ticket.eventId, ticket.attempt, ...params],
    );
    return rows.length === 1;
  }

  /**
   * Holds the lock of each link (in the order of their names) while it records them voided, so that
   * a mail carrying one that is being recorded or claimed meanwhile either went first (it is in the
   * hands of SMTP, too late) or sees the link voided and is cancelled (see {@link counterLocks}).
   * A mail waiting for room that carries one is cancelled at once (found by its `link_token_hash`,
   * through `deliveries_waiting_by_link`), so it neither shows pending nor holds its place in the
   * order of its counter until its event comes back; its event is acknowledged then.
   */
  async voidLinks(tokenHashes: string[]): Promise<void> {
    const names = [...new Set(tokenHashes)].sort();
    await this.dataSource.transaction(async (manager) => {
      await lockForTransaction(manager, names.map(linkLock));
      await manager.query(`INSERT INTO voided_links (token_hash) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, [names]);
      await manager.query(
        `UPDATE deliveries SET status = 'cancelled', last_error = $2, next_attempt_at = NULL, rate_wait_until = NULL, rate_wait_key = NULL,
           link_token_hash = NULL, updated_at = now()
         WHERE link_token_hash = ANY($1::text[]) AND status = 'pending' AND rate_wait_until IS NOT NULL`,
        [names, VOIDED_WHILE_WAITING],
      );
    });
  }

  async pruneVoidedLinks(): Promise<number> {
    const rows = await this.dataSource.query<unknown[]>(
      `WITH gone AS (DELETE FROM voided_links WHERE voided_at < now() - make_interval(days => $1::integer) RETURNING 1) SELECT 1 FROM gone`,
      [VOIDED_LINK_MEMORY_DAYS],
    );
    return rows.length;
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

  async pruneDeliveryLog(retentionDays: number, limit: number): Promise<number> {
    if (!(retentionDays >= EVENT_MEMORY_DAYS))
      throw new RangeError(`A delivery record is kept at least ${EVENT_MEMORY_DAYS} days (as long as its event may come again), not ${retentionDays}`);
    // created_at is never before the stream stored the event (notifications records a mail once it reads it), so the stream dropped it first.
    const [{ deleted }] = await this.dataSource.query<Array<{ deleted: number }>>(
      `WITH done AS (
         SELECT id FROM deliveries
         WHERE created_at < now() - make_interval(days => $1::integer) AND status = ANY($2::text[])
         ORDER BY created_at LIMIT $3::integer
         FOR UPDATE SKIP LOCKED
       ),
       gone AS (DELETE FROM deliveries d USING done WHERE d.id = done.id RETURNING 1)
       SELECT count(*)::integer AS deleted FROM gone`,
      [retentionDays, FINAL_STATUSES, limit],
    );
    return deleted;
  }

  async abandonOrphans(limit: number): Promise<number> {
    const [{ abandoned }] = await this.dataSource.query<Array<{ abandoned: number }>>(
      `WITH orphans AS (
         SELECT id FROM deliveries
         WHERE created_at < now() - make_interval(days => $1::integer) AND status IN ('pending', 'sending')
           AND (status = 'pending' OR lease_until IS NULL OR lease_until <= now())
         ORDER BY created_at LIMIT $2::integer
         FOR UPDATE SKIP LOCKED
       ),
       marked AS (
         UPDATE deliveries d SET status = 'dead', last_error = $3, lease_until = NULL, next_attempt_at = NULL, updated_at = now()
         FROM orphans WHERE d.id = orphans.id RETURNING 1
       )
       SELECT count(*)::integer AS abandoned FROM marked`,
      [EVENT_MEMORY_DAYS, limit, ABANDONED_ERROR],
    );
    return abandoned;
  }

  private async insert(manager: EntityManager, delivery: NewDelivery, status: DeliveryStatus, lastError: string | null): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `INSERT INTO deliveries (id, event_id, event_type, account_id, recipient, template, locale, status, attempts, last_error, message_id, source_event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11)
       ON CONFLICT (event_id) DO NOTHING RETURNING id`,
      [...newRowValues(delivery), status, lastError, delivery.messageId, delivery.sourceEventId],
    );
    return rows.length === 1;
  }
}
