import { isIP } from 'node:net';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { ADDRESS_POLICY, IDENTIFIER_POLICY, RESET_ADDRESS_POLICY, RESET_TARGET_POLICY, signUpAddressPolicy } from './lockout-schedule.js';
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

/**
 * A client address as identity counts attempts from it. An IPv6 client is usually given a whole
 * /64 (SLAAC, privacy addresses): it is counted by that prefix, or it would have 2^64 counters. An
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, how a dual-stack socket shows an IPv4 client) is the
 * IPv4 address, so both spellings charge one counter. Anything that is not an IP address is kept.
 */
export function addressKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const groups = ipv6Groups(ip);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail read as two groups, a zone dropped). */
function ipv6Groups(ip: string): number[] {
  let text = ip.split('%')[0].toLowerCase();
  const tail = text.slice(text.lastIndexOf(':') + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number);
    text = `${text.slice(0, text.length - tail.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const [head, rest] = text.split('::');
  if (rest === undefined) return parse(head);
  const before = parse(head);
  const after = parse(rest);
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}

/** The counter of a client address that every sign-in (and a service account's token exchange) from it is charged to. */
export function signInAddressKey(ip: string): ThrottleKey {
  return { key: `signin:ip:${addressKey(ip)}`, policy: ADDRESS_POLICY, kind: 'address' };
}

/** The counters a user sign-in is charged to: the e-mail typed (known or not) and the client address. */
export function userSignInKeys(email: string, ip: string): ThrottleKey[] {
  return [{ key: `signin:user:${emailKey(email)}`, policy: IDENTIFIER_POLICY, kind: 'identifier' }, signInAddressKey(ip)];
}

/** The counters a subuser sign-in is charged to: account slug + login (known or not) and the client address. */
export function subuserSignInKeys(slug: string, login: string, ip: string): ThrottleKey[] {
  return [{ key: `signin:subuser:${slug.toLowerCase()}:${login.toLowerCase()}`, policy: IDENTIFIER_POLICY, kind: 'identifier' }, signInAddressKey(ip)];
}

/** Whose current password is checked: a person, who signs in with their e-mail, or a subuser, with its account's slug and its login. */
export type CheckedLogin = { type: 'user'; id: string; email: string } | { type: 'subuser'; id: string; accountSlug: string; login: string };

/**
 * Checking the current password (a password or e-mail change, a second factor's change) counts
 * like a sign-in of that principal, and as a sign-in of its login too: guesses through a session
 * and guesses at the sign-in form share one budget, never two.
 */
export function passwordCheckKeys(checked: CheckedLogin, ip: string): ThrottleKey[] {
  const [loginKey, clientKey] = checked.type === 'user' ? userSignInKeys(checked.email, ip) : subuserSignInKeys(checked.accountSlug, checked.login, ip);
  return [{ key: `signin:principal:${checked.id}`, policy: IDENTIFIER_POLICY, kind: 'identifier' }, loginKey, clientKey];
}

/**
 * Codes typed for one principal's second factor (a sign-in's second step, or a change of the
 * factor): as many tries as a password, then the same growing lockout, whoever has the password.
 */
export function secondFactorKeys(principalId: string, ip: string): ThrottleKey[] {
  return [secondFactorPrincipalKey(principalId), signInAddressKey(ip)];
}

/** The counter of codes typed for one principal's second factor, whatever the client address (see {@link secondFactorKeys}). */
export function secondFactorPrincipalKey(principalId: string): ThrottleKey {
  return { key: `mfa:principal:${principalId}`, policy: IDENTIFIER_POLICY, kind: 'identifier' };
}

/** Reset mails for one target (an e-mail, or a subuser). */
export function resetTargetKey(target: string): ThrottleKey {
  return { key: `reset:target:${target.toLowerCase()}`, policy: RESET_TARGET_POLICY, kind: 'identifier' };
}

/** Mails asking to confirm a new login e-mail, for one person (whatever addresses they name): as many as reset mails. */
export function emailChangeKey(userId: string): ThrottleKey {
  return { key: `email-change:user:${userId}`, policy: RESET_TARGET_POLICY, kind: 'identifier' };
}

/** Mails asking an address (as {@link emailKey} folds it) to confirm it as someone's new login e-mail, whoever asks: as many as reset mails. */
export function emailChangeTargetKey(email: string): ThrottleKey {
  return { key: `email-change:to:${email}`, policy: RESET_TARGET_POLICY, kind: 'identifier' };
}

/** Reset requests from one client address. */
export function resetAddressKey(ip: string): ThrottleKey {
  return { key: `reset:ip:${addressKey(ip)}`, policy: RESET_ADDRESS_POLICY, kind: 'address' };
}

/** Sign-ups from one client address, `limit` of them before the first wait (SIGNUP_ADDRESS_LIMIT). */
export function signUpAddressKey(ip: string, limit: number): ThrottleKey {
  return { key: `signup:ip:${addressKey(ip)}`, policy: signUpAddressPolicy(limit), kind: 'address' };
}

/** The 429 every throttled attempt answers (the same whether the login exists or not). */
export function tooManyAttempts(retryAfterMs: number): DomainError {
  return new DomainError(ErrorCode.TooManyRequests, 'Too many attempts; try again later', { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) });
}
