import pg from 'pg';
import { eventually } from '#libs/testing/eventually.js';
import { ManualClock } from '#libs/platform/index.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { ADDRESS_POLICY, afterSuccess, attempt, freshState, IDENTIFIER_POLICY } from './lockout-schedule.js';
import { ThrottleService } from './throttle.service.js';
import { userSignInKeys } from './throttle-keys.js';

const MINUTE = 60_000;

/** How many sessions of this database wait for a lock now. */
async function waitingOnLocks(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
  );
  return rows[0].n;
}

const db = new IdentityTestDatabase();
let clock: ManualClock;
let throttle: ThrottleService;

beforeAll(() => db.start());
afterAll(() => db.stop());
beforeEach(() => {
  clock = new ManualClock();
  throttle = new ThrottleService(db.dataSource, clock);
});

describe('throttling counters on PostgreSQL (B1)', () => {
  it('lets exactly 5 of 40 parallel attempts through, whatever their addresses (counting is atomic)', async () => {
    const verdicts = await Promise.all(Array.from({ length: 40 }, (_, i) => throttle.reserve(userSignInKeys('parallel@example.test', `10.0.0.${i}`))));
    expect(verdicts.filter((verdict) => verdict.allowed)).toHaveLength(5);
  });

  it('lifts the lockout when it ends, and makes the next one longer', async () => {
    const keys = userSignInKeys('slow@example.test', '10.1.0.1');
    for (let i = 0; i < 5; i += 1) expect((await throttle.reserve(keys)).allowed).toBe(true);
    expect(await throttle.reserve(keys)).toEqual({ allowed: false, retryAfterMs: MINUTE });
    clock.advance(MINUTE);
    for (let i = 0; i < 5; i += 1) expect((await throttle.reserve(keys)).allowed).toBe(true);
    expect(await throttle.reserve(keys)).toEqual({ allowed: false, retryAfterMs: 2 * MINUTE });
  });

  it('never lets more than 100 attempts an hour through on one account, from ever-changing addresses', async () => {
    const counted: number[] = [];
    for (let elapsed = 0; elapsed < 2 * 60 * MINUTE; elapsed += 30_000) {
      const verdict = await throttle.reserve(userSignInKeys('target@example.test', `10.2.${Math.floor(elapsed / 30_000) % 250}.1`));
      if (verdict.allowed) counted.push(elapsed);
      clock.advance(30_000);
    }
    const worstHour = Math.max(...counted.map((start) => counted.filter((time) => time >= start && time < start + 60 * MINUTE).length));
    expect(worstHour).toBeLessThanOrEqual(100);
    expect(worstHour).toBeGreaterThanOrEqual(5);
  });

  it('caps an identifier by its hourly window even when its lockouts would let more through (at most 100 in any hour)', async () => {
    // Lockouts that never come: only the window can stop these attempts, one every 30 s for two hours.
    const key = { key: 'signin:user:windowed@example.test', policy: { ...IDENTIFIER_POLICY, threshold: 1_000_000 }, kind: 'identifier' as const };
    const counted: number[] = [];
    for (let elapsed = 0; elapsed < 2 * 60 * MINUTE; elapsed += 30_000) {
      if ((await throttle.reserve([key])).allowed) counted.push(elapsed);
      clock.advance(30_000);
    }
    const worstHour = Math.max(...counted.map((start) => counted.filter((time) => time >= start && time < start + 60 * MINUTE).length));
    expect(worstHour).toBeLessThanOrEqual(100);
    // Of 240 attempts, each of the two hours let its window's worth through: the windows, not lockouts, did the limiting.
    expect(counted).toHaveLength(2 * IDENTIFIER_POLICY.maxPerWindow);
  });

  it("clears a sign-in's counters locking them in key order, as charging them does: sign-ins of one login queue, never deadlock", async () => {
    // The identifier's row is written before the address's, so a scan in table order meets them the other way round
    // from key order (`signin:ip:` sorts before `signin:user:`).
    const keys = userSignInKeys('twice@example.test', '10.4.0.1');
    await throttle.reserve([keys[0]]);
    await throttle.reserve([keys[1]]);
    const [identifier, address] = keys.map((key) => key.key);
    const holder = new pg.Client({ connectionString: db.database.url });
    const prober = new pg.Client({ connectionString: db.database.url });
    await Promise.all([holder.connect(), prober.connect()]);
    try {
      // Another sign-in holds the identifier's row; clearing must then already hold the address's (locked first).
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM identity.throttle_counters WHERE key = $1 FOR UPDATE', [identifier]);
      const clearing = throttle.succeeded(keys);
      await eventually('clearing waits for the held row', async () => (await waitingOnLocks(prober)) > 0, 5000, 10);
      await expect(prober.query('SELECT 1 FROM identity.throttle_counters WHERE key = $1 FOR UPDATE NOWAIT', [address])).rejects.toMatchObject({
        code: '55P03',
      });
      await holder.query('ROLLBACK');
      await clearing;
    } finally {
      await Promise.all([holder.end(), prober.end()]);
    }
  });

  it('starts an identifier afresh after a success, and forgets idle counters', async () => {
    const keys = userSignInKeys('comeback@example.test', '10.3.0.1');
    for (let i = 0; i < 4; i += 1) await throttle.reserve(keys);
    await throttle.succeeded(keys);
    for (let i = 0; i < 5; i += 1) expect((await throttle.reserve(keys)).allowed).toBe(true);
    clock.advance(25 * 60 * MINUTE);
    expect(await throttle.prune()).toBeGreaterThanOrEqual(2);
  });
});

describe('the SQL functions follow lockout-schedule.ts', () => {
  it('agree with the pure rule on random sequences of attempts, successes and waits', async () => {
    const policies = [IDENTIFIER_POLICY, ADDRESS_POLICY, { ...IDENTIFIER_POLICY, maxPerWindow: 7, threshold: 3 }];
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const [index, policy] of policies.entries()) {
      const key = { key: `model:${index}`, policy, kind: index === 1 ? ('address' as const) : ('identifier' as const) };
      let model = freshState(clock.now());
      let created = false;
      for (let step = 0; step < 300; step += 1) {
        const roll = random();
        if (roll < 0.75) {
          const expected = attempt(created ? model : freshState(clock.now()), clock.now(), policy);
          created = true;
          const actual = await throttle.reserve([key]);
          expect(actual.allowed).toBe(expected.allowed);
          if (!expected.allowed && !actual.allowed) expect(Math.abs(actual.retryAfterMs - expected.retryAfterMs)).toBeLessThanOrEqual(1);
          model = expected.state;
        } else if (roll < 0.85 && created) {
          await throttle.succeeded([key]);
          model = afterSuccess(model, key.kind);
        } else {
          clock.advance(Math.floor(random() * 5 * MINUTE));
        }
      }
      const [row] = await db.dataSource.query<Array<{ failures: number; lockouts: number; window_count: number }>>(
        `SELECT failures, lockouts, window_count FROM throttle_counters WHERE key = $1`,
        [key.key],
      );
      expect(row).toEqual({ failures: model.failures, lockouts: model.lockouts, window_count: model.windowCount });
    }
  });
});
