/**
 * The throttling rule, pure: every attempt is counted *before* the password is checked (so
 * parallel attempts cannot slip past the limit), each `threshold`-th counted failure locks the
 * key for a time that doubles with every lockout, and a fixed hourly window caps the count.
 */

/** How one kind of key (an e-mail, a client address) is throttled. */
export interface ThrottlePolicy {
  /** Counted attempts that trigger a lockout (and each further multiple of it). */
  threshold: number;
  /** The first lockout; each next one doubles. */
  baseLockMs: number;
  /** The longest lockout. */
  maxLockMs: number;
  /** Attempts allowed per fixed window of `windowMs` (any sliding window of that length sees at most twice this). */
  maxPerWindow: number;
  windowMs: number;
  /** After this long without attempts, the key starts afresh. */
  forgetAfterMs: number;
}

/** What is kept per key. */
export interface ThrottleState {
  failures: number;
  lockouts: number;
  lockedUntil: Date | null;
  windowStart: Date;
  windowCount: number;
  lastAt: Date;
}

/** The answer to an attempt: go ahead (the attempt is now counted), or wait. */
export type ThrottleDecision = { allowed: true; state: ThrottleState } | { allowed: false; retryAfterMs: number; state: ThrottleState };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Sign-in attempts on one e-mail or subuser login: 5 tries, then 1, 2, 4 ... 60 minutes; at most 50 per hour window (so <= 100 in any hour). */
export const IDENTIFIER_POLICY: ThrottlePolicy = {
  threshold: 5,
  baseLockMs: MINUTE,
  maxLockMs: HOUR,
  maxPerWindow: 50,
  windowMs: HOUR,
  forgetAfterMs: 24 * HOUR,
};

/** Sign-in attempts from one client address (many people may share one): 20 tries, then 1, 2, 4 ... 60 minutes. */
export const ADDRESS_POLICY: ThrottlePolicy = {
  threshold: 20,
  baseLockMs: MINUTE,
  maxLockMs: HOUR,
  maxPerWindow: 500,
  windowMs: HOUR,
  forgetAfterMs: 24 * HOUR,
};

/** Reset mails asked for one e-mail or subuser: 3, then 15, 30, 60 ... minutes up to a day. */
export const RESET_TARGET_POLICY: ThrottlePolicy = {
  threshold: 3,
  baseLockMs: 15 * MINUTE,
  maxLockMs: 24 * HOUR,
  maxPerWindow: 10,
  windowMs: 24 * HOUR,
  forgetAfterMs: 24 * HOUR,
};

/** Reset requests from one client address. */
export const RESET_ADDRESS_POLICY: ThrottlePolicy = {
  threshold: 10,
  baseLockMs: 15 * MINUTE,
  maxLockMs: 24 * HOUR,
  maxPerWindow: 50,
  windowMs: HOUR,
  forgetAfterMs: 24 * HOUR,
};

/**
 * Sign-ups from one client address (each creates an account and mails an activation link to any
 * address): `limit` (SIGNUP_ADDRESS_LIMIT), then 15, 30, 60 ... minutes up to a day, as reset
 * requests from one address are.
 */
export function signUpAddressPolicy(limit: number): ThrottlePolicy {
  return { ...RESET_ADDRESS_POLICY, threshold: limit, maxPerWindow: 5 * limit };
}

/** The length of the `lockouts`-th lockout. */
export function lockDurationMs(lockouts: number, policy: ThrottlePolicy): number {
  return Math.min(policy.baseLockMs * 2 ** Math.max(0, lockouts - 1), policy.maxLockMs);
}

/** A key never seen. */
export function freshState(now: Date): ThrottleState {
  return { failures: 0, lockouts: 0, lockedUntil: null, windowStart: now, windowCount: 0, lastAt: now };
}

/** Decides one attempt and, when allowed, counts it (as a failure until {@link afterSuccess} says otherwise). */
export function attempt(previous: ThrottleState, now: Date, policy: ThrottlePolicy): ThrottleDecision {
  if (previous.lockedUntil && previous.lockedUntil > now) {
    return { allowed: false, retryAfterMs: previous.lockedUntil.getTime() - now.getTime(), state: previous };
  }
  const state = { ...previous };
  if (now.getTime() - state.lastAt.getTime() >= policy.forgetAfterMs) Object.assign(state, { failures: 0, lockouts: 0 });
  if (now.getTime() - state.windowStart.getTime() >= policy.windowMs) Object.assign(state, { windowStart: now, windowCount: 0 });
  if (state.windowCount >= policy.maxPerWindow) {
    return { allowed: false, retryAfterMs: state.windowStart.getTime() + policy.windowMs - now.getTime(), state: previous };
  }
  state.failures += 1;
  state.windowCount += 1;
  state.lastAt = now;
  state.lockedUntil = null;
  if (state.failures % policy.threshold === 0) {
    state.lockouts += 1;
    state.lockedUntil = new Date(now.getTime() + lockDurationMs(state.lockouts, policy));
  }
  return { allowed: true, state };
}

/**
 * After the attempt turned out right. A sign-in identifier starts afresh (its owner proved the
 * password); a shared address only takes back the one attempt it counted.
 */
export function afterSuccess(state: ThrottleState, kind: 'identifier' | 'address'): ThrottleState {
  const windowCount = Math.max(0, state.windowCount - 1);
  if (kind === 'identifier') return { ...state, failures: 0, lockouts: 0, lockedUntil: null, windowCount };
  return { ...state, failures: Math.max(0, state.failures - 1), windowCount };
}
