import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '#libs/platform/index.js';
import type { ThrottlePolicy } from './lockout-schedule.js';

/** One counter an attempt is charged to. */
export interface ThrottleKey {
  key: string;
  policy: ThrottlePolicy;
  /** An identifier starts afresh after a success; an address only takes the attempt back. */
  kind: 'identifier' | 'address';
}

/** Go ahead, or wait this long. */
export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Throttling counters in PostgreSQL. The rule is `lockout-schedule.ts`; the database applies it in
 * `identity.throttle_reserve()` (migration 1732600000000), one round trip per attempt, locking the
 * rows of all the attempt's keys in key order: two attempts can never both see the last free slot.
 */
@Injectable()
export class ThrottleService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Charges one attempt to every key, or to none when any of them is locked. */
  async reserve(keys: ThrottleKey[]): Promise<ThrottleVerdict> {
    const { sql, parameters } = this.reserveExpression(keys, 1);
    const [{ wait }] = await this.dataSource.query<Array<{ wait: string }>>(`SELECT ${sql} AS wait`, parameters);
    return verdictOf(wait);
  }

  /**
   * What {@link reserve} runs, as an expression (the wait in ms, 0 when allowed; read it with
   * {@link verdictOf}) with its parameters numbered from `first`: to charge the attempt within
   * another statement (a sign-in charges it as it looks the login up).
   */
  reserveExpression(keys: ThrottleKey[], first: number): { sql: string; parameters: unknown[] } {
    const sorted = distinctSorted(keys);
    const column = <T>(pick: (policy: ThrottlePolicy) => T) => sorted.map((key) => pick(key.policy));
    const p = (offset: number) => `$${first + offset}`;
    return {
      sql: `identity.throttle_reserve(${p(0)}::text[], ${p(1)}::int[], ${p(2)}::bigint[], ${p(3)}::bigint[], ${p(4)}::int[], ${p(5)}::bigint[], ${p(6)}::bigint[], ${p(7)})`,
      parameters: [
        sorted.map((key) => key.key),
        column((policy) => policy.threshold),
        column((policy) => policy.baseLockMs),
        column((policy) => policy.maxLockMs),
        column((policy) => policy.maxPerWindow),
        column((policy) => policy.windowMs),
        column((policy) => policy.forgetAfterMs),
        this.clock.now(),
      ],
    };
  }

  /** After an attempt charged with {@link reserve} turned out right; in `manager`'s transaction when given. */
  async succeeded(keys: ThrottleKey[], manager: EntityManager = this.dataSource.manager): Promise<void> {
    const { sql, parameters } = this.succeededStatement(keys, 1);
    await manager.query(sql, parameters);
  }

  /**
   * What {@link succeeded} runs, as a SELECT with its parameters numbered from `first`: to clear
   * the counters within another statement (a sign-in clears them as it opens the session), only
   * if `onlyIf` (an SQL condition) holds, when given.
   */
  succeededStatement(keys: ThrottleKey[], first: number, onlyIf?: string): { sql: string; parameters: unknown[] } {
    const sorted = distinctSorted(keys);
    return {
      sql: `SELECT identity.throttle_succeeded($${first}::text[], $${first + 1}::text[])${onlyIf ? ` WHERE ${onlyIf}` : ''}`,
      parameters: [
        sorted.filter((key) => key.kind === 'identifier').map((key) => key.key),
        sorted.filter((key) => key.kind === 'address').map((key) => key.key),
      ],
    };
  }

  /**
   * Drops counters nobody touched for a day (they would start afresh anyway). Locks them in key
   * order, as sign-ins do, and skips any a sign-in holds: it never waits for one, nor deadlocks.
   */
  async prune(olderThanMs = 24 * 3600_000): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM throttle_counters
        WHERE key IN (SELECT key FROM throttle_counters WHERE last_at < $1 ORDER BY key COLLATE "C" FOR UPDATE SKIP LOCKED)`,
      [new Date(this.clock.now().getTime() - olderThanMs)],
    );
    return result[1];
  }
}

/** The verdict of a wait returned by `identity.throttle_reserve()` (see {@link ThrottleService.reserveExpression}). */
export function verdictOf(wait: string | number): ThrottleVerdict {
  const retryAfterMs = Number(wait);
  return retryAfterMs > 0 ? { allowed: false, retryAfterMs } : { allowed: true };
}

/** The keys once each, in the order every statement locks counters in (byte order: PostgreSQL's `COLLATE "C"` for these ASCII prefixes). */
function distinctSorted(keys: ThrottleKey[]): ThrottleKey[] {
  const byKey = new Map(keys.map((key) => [key.key, key]));
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
