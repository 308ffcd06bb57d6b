import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { ADDRESS_POLICY, IDENTIFIER_POLICY, RESET_ADDRESS_POLICY, RESET_TARGET_POLICY } from './lockout-schedule.js';
import type { ThrottleKey } from './throttle.service.js';

/**
 * An e-mail address as identity counts attempts on it: lower-cased by JavaScript. Lookups fold with
 * PostgreSQL's `lower()`, as the unique column does; JavaScript folds at least as much (the
 * contracts refuse the addresses where PostgreSQL folds more, see `lowerCasesAlike`), so every
 * spelling of one login charges the same counter (under a database with `LC_CTYPE=C`, where
 * `lower()` folds ASCII only, two logins differing only in `É`/`é` share one: conservative).
 */
export function emailKey(email: string): string {
  return email.toLowerCase();
}

/** The counters a user sign-in is charged to: the e-mail typed (known or not) and the client address. */
export function userSignInKeys(email: string, ip: string): ThrottleKey[] {
  return [
    { key: `signin:user:${emailKey(email)}`, policy: IDENTIFIER_POLICY, kind: 'identifier' },
    { key: `signin:ip:${ip}`, policy: ADDRESS_POLICY, kind: 'address' },
  ];
}

/** The counters a subuser sign-in is charged to: account slug + login (known or not) and the client address. */
export function subuserSignInKeys(slug: string, login: string, ip: string): ThrottleKey[] {
  return [
    { key: `signin:subuser:${slug.toLowerCase()}:${login.toLowerCase()}`, policy: IDENTIFIER_POLICY, kind: 'identifier' },
    { key: `signin:ip:${ip}`, policy: ADDRESS_POLICY, kind: 'address' },
  ];
}

/** Checking the current password on a password change counts like a sign-in of that principal. */
export function passwordCheckKeys(principalId: string, ip: string): ThrottleKey[] {
  return [
    { key: `signin:principal:${principalId}`, policy: IDENTIFIER_POLICY, kind: 'identifier' },
    { key: `signin:ip:${ip}`, policy: ADDRESS_POLICY, kind: 'address' },
  ];
}

/** Reset mails for one target (an e-mail, or a subuser). */
export function resetTargetKey(target: string): ThrottleKey {
  return { key: `reset:target:${target.toLowerCase()}`, policy: RESET_TARGET_POLICY, kind: 'identifier' };
}

/** Reset requests from one client address. */
export function resetAddressKey(ip: string): ThrottleKey {
  return { key: `reset:ip:${ip}`, policy: RESET_ADDRESS_POLICY, kind: 'address' };
}

/** The 429 every throttled attempt answers (the same whether the login exists or not). */
export function tooManyAttempts(retryAfterMs: number): DomainError {
  return new DomainError(ErrorCode.TooManyRequests, 'Too many attempts; try again later', { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) });
}
