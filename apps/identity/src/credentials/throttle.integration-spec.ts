import { ManualClock } from '#libs/platform/index.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { ThrottleService } from './throttle.service.js';
import { userSignInKeys } from './throttle-keys.js';

const MINUTE = 60_000;
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

  it('starts an identifier afresh after a success, and forgets idle counters', async () => {
    const keys = userSignInKeys('comeback@example.test', '10.3.0.1');
    for (let i = 0; i < 4; i += 1) await throttle.reserve(keys);
    await throttle.succeeded(keys);
    for (let i = 0; i < 5; i += 1) expect((await throttle.reserve(keys)).allowed).toBe(true);
    clock.advance(25 * 60 * MINUTE);
    expect(await throttle.prune()).toBeGreaterThanOrEqual(2);
  });
});
