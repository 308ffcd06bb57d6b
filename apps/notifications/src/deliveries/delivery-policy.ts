import { createHash } from 'node:crypto';
import type { MailTemplate } from '#libs/contracts/index.js';
import { EVENTS_RETENTION_MS } from '#libs/platform/index.js';
import type { RateLimits } from './delivery.store.js';

/** How failed mails are retried. */
export interface RetryPolicy {
  /** SMTP attempts after which a temporarily failing mail is dead. */
  maxAttempts: number;
  /** Delay after the first failure; doubled after each further one. */
  baseDelayMs: number;
  /** Longest delay. */
  maxDelayMs: number;
}

/**
 * How long whatever notifications keeps by an event (a mail's delivery record, a voided link)
 * must be kept for that event to find it, should the stream deliver it again: the days the events
 * stream keeps an event (its `max_age`, counted from when the stream stored it, which is before
 * notifications first saw it), and a day more for the clocks of NATS and PostgreSQL and for an
 * outbox row republished after its relay's crash.
 */
export const EVENT_MEMORY_DAYS = EVENTS_RETENTION_MS / 86_400_000 + 1;

/** What an SMTP error means for the mail. */
export interface SmtpFailure {
  /** `permanent`: the server refused this mail for good (5xx); `temporary`: try again later. */
  kind: 'temporary' | 'permanent';
  /** A short description for the delivery log. */
  message: string;
}

/** What becomes of a mail after a failed attempt. */
export type AfterFailure = { status: 'pending'; retryInMs: number } | { status: 'failed' | 'dead' };

/** The parts of nodemailer's SMTP errors that say who refused what. */
interface SmtpErrorShape {
  /** The reply's code (550). */
  responseCode?: unknown;
  /** nodemailer's kind of error: `EENVELOPE` (MAIL FROM, RCPT TO or DATA refused), `EMESSAGE` (the message refused after DATA), `EAUTH`, `ESOCKET` ... */
  code?: unknown;
  /** The command the reply answered: `MAIL FROM`, `RCPT TO`, `DATA` ... */
  command?: unknown;
  /** The server's reply, as it came ("550 5.1.1 <ada@example.com>: Recipient address rejected"). */
  response?: unknown;
  message?: unknown;
}

/** The subject of an enhanced status code (RFC 3463) after the reply code: "550 5.1.1 ..." -> 1 (addressing). */
const ENHANCED_STATUS_SUBJECT = /^\d{3}[ -][245]\.(\d{1,3})\.\d{1,3}\b/;
/** Reply codes about one mailbox when the server gives no enhanced status (RFC 5321 4.2.2): unavailable, not local, over quota, name not allowed. */
const MAILBOX_REPLIES = new Set([550, 551, 552, 553]);

/**
 * A 5xx reply is permanent only when it is about this mail: a recipient refused at RCPT TO for
 * its address or mailbox (a 550-553 reply whatever its enhanced status but 5.7.x, or any 5xx with
 * enhanced status 5.1.x or 5.2.x), or the content
 * refused after DATA. Everything else is temporary, because it is about our set-up or the link,
 * and once that is mended the waiting mails go out: 4xx, connection refused or cut, timeouts, TLS;
 * any refusal of the sender (MAIL FROM), "authentication required" (530), policy and security
 * refusals (5.7.x: relaying denied, sender not authorized, authentication failures such as 535).
 */
export function classifySmtpError(error: unknown): SmtpFailure {
  const shape = (error ?? {}) as SmtpErrorShape;
  const text = (typeof shape.message === 'string' && shape.message.length > 0 ? shape.message : String(error)).replace(/\s+/g, ' ').slice(0, 500);
  return { kind: refusesThisMail(shape) ? 'permanent' : 'temporary', message: text };
}

/** Whether a reply refuses this very mail for good (see {@link classifySmtpError}). */
function refusesThisMail({ responseCode, code, command, response }: SmtpErrorShape): boolean {
  if (typeof responseCode !== 'number' || responseCode < 500 || responseCode >= 600 || responseCode === 530) return false;
  const status = typeof response === 'string' ? ENHANCED_STATUS_SUBJECT.exec(response) : null;
  const subject = status ? Number(status[1]) : null;
  if (subject === 7) return false;
  // A mailbox reply (550-553) at RCPT TO refuses this recipient whatever its enhanced status says but policy (5.7): Exchange answers
  // a mailbox that does not exist "550 5.4.1 Recipient address rejected: Access denied", others 5.5.0 or 5.0.0.
  if (command === 'RCPT TO' && code === 'EENVELOPE') return MAILBOX_REPLIES.has(responseCode) || subject === 1 || subject === 2;
  return command === 'DATA' && code === 'EMESSAGE';
}

/**
 * The delay before attempt `attempt + 1`, after `attempt` failures: exponential
 * (base, 2 base, 4 base ... up to max), with "equal jitter" (a uniform draw in [d/2, d]) so that
 * mails failing together do not come back together.
 */
export function retryDelayMs(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(40, Math.max(0, attempt - 1)));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The next state of a mail whose attempt number `attempts` failed with `failure`. */
export function afterFailure(attempts: number, failure: SmtpFailure, policy: RetryPolicy, random: () => number = Math.random): AfterFailure {
  if (failure.kind === 'permanent') return { status: 'failed' };
  if (attempts >= policy.maxAttempts) return { status: 'dead' };
  return { status: 'pending', retryInMs: retryDelayMs(attempts, policy, random) };
}

/**
 * The rate-limit budget a mail is counted in. Each budget has counters of its own, per recipient
 * and per account, so that mails of one budget never use up another's (see docs/notifications.md):
 * - `notice`: security notices, about a change to someone's credentials, login e-mail or account.
 *   Other mails cannot hold them back; their own cap (MAIL_RATE_NOTICES_PER_RECIPIENT) stops
 *   whoever can cause them (an admin changing a subuser's e-mail over and over) from mailing an
 *   address without end.
 * - `self-service`: a password reset asked for through the reset form (not by an admin), so that
 *   invitations or notices others cause cannot use up the budget of the person's own reset.
 * - `standard`: every other mail.
 */
export type RateBudget = 'notice' | 'self-service' | 'standard';

/** The budget of each template; `self-service` only when the person asked (see {@link rateBudget}). */
const BUDGET_OF: Record<MailTemplate, RateBudget> = {
  activation: 'standard',
  'added-to-account': 'standard',
  'subuser-activation': 'standard',
  'password-reset': 'self-service',
  'subuser-password-reset': 'self-service',
  'password-changed': 'notice',
  'ownership-received': 'standard',
  'ownership-handed-over': 'notice',
  'email-change-confirm': 'standard',
  'email-change-in-use': 'standard',
  'email-changed': 'notice',
  'subuser-email-changed': 'notice',
  'second-step-changed': 'notice',
  'second-step-blocked': 'notice',
  'recovery-code-used': 'notice',
};

/** The budget a mail `template` is counted in; `requestedBy` is its event's (`self` for a reset asked for through the form). */
export function rateBudget(template: MailTemplate, requestedBy: unknown): RateBudget {
  const budget = BUDGET_OF[template];
  return budget === 'self-service' && requestedBy !== 'self' ? 'standard' : budget;
}

/**
 * An address as the rate limits count it: trimmed, in lower case, and without a `+tag` in its
 * local part, which most providers deliver to the mailbox without it (`Ada+1@Example.com` is
 * counted as `ada@example.com`), so tagging an address does not multiply its budget. The mail still
 * goes to the address as given. Dots are kept: only some providers ignore them.
 */
export function countedAddress(address: string): string {
  const folded = address.trim().toLowerCase();
  const at = folded.lastIndexOf('@');
  const plus = folded.indexOf('+');
  return plus < 0 || at < 0 || plus > at ? folded : folded.slice(0, plus) + folded.slice(at);
}

/** The rate limits of the configuration: per window, per recipient (notices have their own figure) and per account. */
export interface RateLimitSettings {
  /** Mails of the `standard` and of the `self-service` budget (each its own count) one address may receive; 0: no limit. */
  perRecipient: number;
  /** Security notices one address may receive; 0: no limit. */
  noticesPerRecipient: number;
  /** Mails of each budget one account may cause; 0: no limit. */
  perAccount: number;
  windowMinutes: number;
  /** Longest a mail carrying a link may wait for room once over a limit, before it is suppressed; 0: suppressed at once. */
  maxWaitMinutes: number;
}

/** The limits a mail of `budget` is counted against. */
export function budgetLimits(budget: RateBudget, settings: RateLimitSettings): RateLimits {
  const perRecipient = budget === 'notice' ? settings.noticesPerRecipient : settings.perRecipient;
  return { budget, perRecipient, perAccount: settings.perAccount, windowMinutes: settings.windowMinutes };
}

/** What decides whether a mail over its rate limit may wait for room: its budget, whether it carries a link, and when that link expires. */
export interface WaitingMail {
  budget: RateBudget;
  carriesLink: boolean;
  /** The link's expiry, as its event gives it (an ISO 8601 date); anything else is taken as no expiry. */
  expiresAt: unknown;
}

/**
 * Until when a mail over its rate limit may wait for room in the window, or null when it is
 * suppressed at once. A mail carrying a link waits (identity voided the person's older links when
 * it made this one, so suppressing the newest would leave them only dead links), at most
 * `maxWaitMinutes` from `now` and never past its link's expiry (a link that died in the wait is no
 * use). Security notices carry no link (the undo link of `email-changed` is not one a newer mail
 * replaces) and are suppressed as before: their cap stops whoever causes them.
 */
export function rateWaitUntil(mail: WaitingMail, maxWaitMinutes: number, now: number = Date.now()): Date | null {
  if (!mail.carriesLink || mail.budget === 'notice' || maxWaitMinutes <= 0) return null;
  const longest = now + maxWaitMinutes * 60_000;
  const expiry = typeof mail.expiresAt === 'string' ? Date.parse(mail.expiresAt) : Number.NaN;
  return new Date(Number.isNaN(expiry) ? longest : Math.min(longest, expiry));
}

/**
 * How the mail of each template is told apart from every other mail (the key of its delivery
 * record, and its Message-ID). `event`: by its event's id, for events that make one mail (those
 * mails always were, so an event recorded before an upgrade is still recognised after it);
 * `event-and-template`: by a key derived from both, for events that make several mails.
 */
const KEYED_BY: Record<MailTemplate, 'event' | 'event-and-template'> = {
  activation: 'event',
  'added-to-account': 'event',
  'subuser-activation': 'event',
  'password-reset': 'event',
  'subuser-password-reset': 'event',
  'password-changed': 'event',
  'ownership-received': 'event-and-template',
  'ownership-handed-over': 'event-and-template',
  'email-change-confirm': 'event',
  'email-change-in-use': 'event',
  'email-changed': 'event',
  'subuser-email-changed': 'event',
  'second-step-changed': 'event',
  'second-step-blocked': 'event',
  'recovery-code-used': 'event',
};

/**
 * The key of the delivery record of the mail `template` of the event `eventId` (a UUID): the
 * event's id, or a name-based UUID (RFC 9562 version 5) of the template within the event's id, the
 * same on every redelivery.
 */
export function deliveryKey(eventId: string, template: MailTemplate): string {
  if (KEYED_BY[template] === 'event') return eventId;
  const hash = createHash('sha1')
    .update(Buffer.from(eventId.replace(/-/g, ''), 'hex'))
    .update(template, 'utf8')
    .digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The retry schedule a policy gives when every attempt fails: the delays' lower and upper bounds. */
export function retrySchedule(policy: RetryPolicy): Array<{ attempt: number; minMs: number; maxMs: number }> {
  const schedule = [];
  for (let attempt = 1; attempt < policy.maxAttempts; attempt += 1) {
    schedule.push({ attempt, minMs: retryDelayMs(attempt, policy, () => 0), maxMs: retryDelayMs(attempt, policy, () => 1) });
  }
  return schedule;
}
