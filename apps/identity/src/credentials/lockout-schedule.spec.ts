import {
  ADDRESS_POLICY,
  afterSuccess,
  attempt,
  freshState,
  IDENTIFIER_POLICY,
  lockDurationMs,
  signUpAddressPolicy,
  type ThrottlePolicy,
  type ThrottleState,
} from './lockout-schedule.js';

const MINUTE = 60_000;
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

/** Attempts `count` times at `when`, returning the decisions and the last state. */
function attempts(state: ThrottleState, when: Date, count: number, policy = IDENTIFIER_POLICY) {
  const allowed: boolean[] = [];
  for (let i = 0; i < count; i += 1) {
    const decision = attempt(state, when, policy);
    allowed.push(decision.allowed);
    state = decision.state;
  }
  return { allowed, state };
}

/** An attacker who tries again the moment they are allowed, for `durationMs`; returns the times of counted attempts. */
function relentless(policy: ThrottlePolicy, durationMs: number, stepMs = 1000): number[] {
  let state = freshState(t0);
  const counted: number[] = [];
  for (let elapsed = 0; elapsed < durationMs; elapsed += stepMs) {
    const decision = attempt(state, at(elapsed), policy);
    state = decision.state;
    if (decision.allowed) counted.push(elapsed);
  }
  return counted;
}

describe('the lockout schedule', () => {
  it('allows the threshold, then locks', () => {
    const { allowed } = attempts(freshState(t0), t0, 7);
    expect(allowed).toEqual([true, true, true, true, true, false, false]);
  });

  it.each([
    [1, MINUTE],
    [2, 2 * MINUTE],
    [3, 4 * MINUTE],
    [6, 32 * MINUTE],
    [7, 60 * MINUTE],
    [20, 60 * MINUTE],
  ])('lockout %i lasts %i ms (grows, capped)', (lockouts, duration) => {
    expect(lockDurationMs(lockouts, IDENTIFIER_POLICY)).toBe(duration);
  });

  it('grows the lockout with repeated failure', () => {
    let state = attempts(freshState(t0), t0, 5).state;
    expect(state.lockedUntil).toEqual(at(MINUTE));
    expect(attempt(state, at(MINUTE - 1), IDENTIFIER_POLICY)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    state = attempts(state, at(MINUTE), 5).state;
    expect(state.lockedUntil).toEqual(at(3 * MINUTE));
    state = attempts(state, at(3 * MINUTE), 5).state;
    expect(state.lockedUntil).toEqual(at(7 * MINUTE));
  });

  it('starts afresh after a success on the identifier', () => {
    const { state } = attempts(freshState(t0), t0, 4);
    const reset = afterSuccess(state, 'identifier');
    expect(reset).toMatchObject({ failures: 0, lockouts: 0, lockedUntil: null, windowCount: 3 });
    expect(attempts(reset, t0, 5).allowed.every(Boolean)).toBe(true);
  });

  it('only takes back the one attempt on a shared address', () => {
    const { state } = attempts(freshState(t0), t0, 10, ADDRESS_POLICY);
    expect(afterSuccess(state, 'address')).toMatchObject({ failures: 9, windowCount: 9 });
  });

  it('forgets a key after a day without attempts', () => {
    const { state } = attempts(freshState(t0), t0, 12);
    const later = attempt(state, at(24 * 60 * MINUTE), IDENTIFIER_POLICY);
    expect(later).toMatchObject({ allowed: true, state: { failures: 1, lockouts: 0 } });
  });

  it('never lets more than 100 attempts an hour through on one account, whatever the pace', () => {
    for (const stepMs of [100, 1000, 30_000]) {
      const counted = relentless(IDENTIFIER_POLICY, 24 * 60 * MINUTE, stepMs);
      let worst = 0;
      for (let i = 0; i < counted.length; i += 1) {
        let j = i;
        while (j < counted.length && counted[j] - counted[i] < 60 * MINUTE) j += 1;
        worst = Math.max(worst, j - i);
      }
      expect(worst).toBeLessThanOrEqual(100);
      expect(worst).toBeGreaterThanOrEqual(5);
    }
  });

  it('caps a window even when the lockouts are configured away', () => {
    const lenient: ThrottlePolicy = { ...IDENTIFIER_POLICY, threshold: 1_000_000 };
    const counted = relentless(lenient, 60 * MINUTE, 1000);
    expect(counted).toHaveLength(lenient.maxPerWindow);
  });

  it.each([10, 3])('lets %i sign-ups from one address through, then makes it wait 15 minutes, then 30', (limit) => {
    const policy = signUpAddressPolicy(limit);
    const first = attempts(freshState(t0), t0, limit + 1, policy);
    expect(first.allowed).toEqual([...Array<boolean>(limit).fill(true), false]);
    const second = attempts(first.state, at(15 * MINUTE), limit + 1, policy);
    expect(second.allowed).toEqual([...Array<boolean>(limit).fill(true), false]);
    expect(second.state.lockedUntil).toEqual(at(45 * MINUTE));
  });
});
