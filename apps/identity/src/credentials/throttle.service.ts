import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '#libs/platform/index.js';
import { afterSuccess, attempt, type ThrottlePolicy, type ThrottleState } from './lockout-schedule.js';

/** One counter an attempt is charged to. */
export interface ThrottleKey {
  key: string;
  policy: ThrottlePolicy;
  /** An identifier starts afresh after a success; an address only takes the attempt back. */
  kind: 'identifier' | 'address';
}

/** Go ahead, or wait this long. */
export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

interface CounterRow {
  key: string;
  failures: number;
  lockouts: number;
  locked_until: Date | null;
  window_start: Date;
  window_count: number;
  last_at: Date;
}

/**
 * Throttling counters in PostgreSQL. Each attempt is charged to all its keys in one transaction
 * that locks their rows (in key order, so parallel attempts queue rather than deadlock): two
 * attempts can never both see the last free slot.
 */
@Injectable()
export class ThrottleService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Charges one attempt to every key, or to none when any of them is locked. */
  async reserve(keys: ThrottleKey[]): Promise<ThrottleVerdict> {
    const now = this.clock.now();
    const sorted = distinctSorted(keys);
    return this.dataSource.transaction(async (manager) => {
      const rows = await this.lockRows(manager.query.bind(manager), sorted, now);
      const decisions = sorted.map((key) => attempt(toState(rows.get(key.key)!), now, key.policy));
      const refused = decisions.filter((decision) => !decision.allowed);
      if (refused.length > 0) return { allowed: false, retryAfterMs: Math.max(...refused.map((decision) => decision.retryAfterMs)) };
      await this.save(
        manager.query.bind(manager),
        sorted,
        decisions.map((decision) => decision.state),
      );
      return { allowed: true };
    });
  }

  /** After an attempt charged with {@link reserve} turned out right. */
  async succeeded(keys: ThrottleKey[]): Promise<void> {
    const now = this.clock.now();
    const sorted = distinctSorted(keys);
    await this.dataSource.transaction(async (manager) => {
      const rows = await this.lockRows(manager.query.bind(manager), sorted, now);
      await this.save(
        manager.query.bind(manager),
        sorted,
        sorted.map((key) => afterSuccess(toState(rows.get(key.key)!), key.kind)),
      );
    });
  }

  /** Drops counters nobody touched for a day (they would start afresh anyway). */
  async prune(olderThanMs = 24 * 3600_000): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(`DELETE FROM throttle_counters WHERE last_at < $1`, [
      new Date(this.clock.now().getTime() - olderThanMs),
    ]);
    return result[1];
  }

  private async lockRows(query: Query, keys: ThrottleKey[], now: Date): Promise<Map<string, CounterRow>> {
    // The no-op DO UPDATE both creates missing rows and locks existing ones, returning their values.
    const rows: CounterRow[] = await query(
      `INSERT INTO throttle_counters (key, window_start, last_at)
       SELECT unnest($1::text[]), $2, $2
       ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
       RETURNING key, failures, lockouts, locked_until, window_start, window_count, last_at`,
      [keys.map((key) => key.key), now],
    );
    return new Map(rows.map((row) => [row.key, row]));
  }

  private async save(query: Query, keys: ThrottleKey[], states: ThrottleState[]): Promise<void> {
    await query(
      `UPDATE throttle_counters t
          SET failures = s.failures, lockouts = s.lockouts, locked_until = s.locked_until,
              window_start = s.window_start, window_count = s.window_count, last_at = s.last_at
         FROM unnest($1::text[], $2::int[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::int[], $7::timestamptz[])
              AS s(key, failures, lockouts, locked_until, window_start, window_count, last_at)
        WHERE t.key = s.key`,
      [
        keys.map((key) => key.key),
        states.map((state) => state.failures),
        states.map((state) => state.lockouts),
        states.map((state) => state.lockedUntil),
        states.map((state) => state.windowStart),
        states.map((state) => state.windowCount),
        states.map((state) => state.lastAt),
      ],
    );
  }
}

type Query = (sql: string, parameters?: unknown[]) => Promise<never>;

function distinctSorted(keys: ThrottleKey[]): ThrottleKey[] {
  const byKey = new Map(keys.map((key) => [key.key, key]));
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function toState(row: CounterRow): ThrottleState {
  return {
    failures: row.failures,
    lockouts: row.lockouts,
    lockedUntil: row.locked_until,
    windowStart: row.window_start,
    windowCount: row.window_count,
    lastAt: row.last_at,
  };
}
