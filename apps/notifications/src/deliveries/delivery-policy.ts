import type { MailTemplate } from '#libs/contracts/index.js';

/** How failed mails are retried. */
export interface RetryPolicy {
  /** SMTP attempts after which a temporarily failing mail is dead. */
  maxAttempts: number;
  /** Delay after the first failure; doubled after each further one. */
  baseDelayMs: number;
  /** Longest delay. */
  maxDelayMs: number;
}

/** What an SMTP error means for the mail. */
export interface SmtpFailure {
  /** `permanent`: the server refused this mail for good (5xx); `temporary`: try again later. */
  kind: 'temporary' | 'permanent';
  /** A short description for the delivery log. */
  message: string;
}

/** What becomes of a mail after a failed attempt. */
export type AfterFailure = { status: 'pending'; retryInMs: number } | { status: 'failed' | 'dead' };

/** nodemailer's error codes that say "this message was refused" (rather than "the link or our set-up failed"). */
const MESSAGE_REFUSALS = new Set(['EENVELOPE', 'EMESSAGE']);

/**
 * A 5xx reply to this message (its sender, recipient or content) is permanent. Everything else is
 * temporary: 4xx, connection refused or cut, timeouts, TLS problems, and also authentication
 * failures, even 5xx ones (535), because those are our configuration, not the mail: once an
 * operator fixes it, the mails still waiting go out.
 */
export function classifySmtpError(error: unknown): SmtpFailure {
  const { responseCode, code, message } = (error ?? {}) as { responseCode?: unknown; code?: unknown; message?: unknown };
  const text = (typeof message === 'string' && message.length > 0 ? message : String(error)).replace(/\s+/g, ' ').slice(0, 500);
  const permanent =
    typeof responseCode === 'number' &&
    responseCode >= 500 &&
    responseCode < 600 &&
    (code === undefined || (typeof code === 'string' && MESSAGE_REFUSALS.has(code)));
  return { kind: permanent ? 'permanent' : 'temporary', message: text };
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

/** Mails that are always sent, whatever the rate limits say (they are still counted): a security notice must reach its owner. */
export function isRateLimitExempt(template: MailTemplate): boolean {
  return template === 'password-changed';
}

/** The retry schedule a policy gives when every attempt fails: the delays' lower and upper bounds. */
export function retrySchedule(policy: RetryPolicy): Array<{ attempt: number; minMs: number; maxMs: number }> {
  const schedule = [];
  for (let attempt = 1; attempt < policy.maxAttempts; attempt += 1) {
    schedule.push({ attempt, minMs: retryDelayMs(attempt, policy, () => 0), maxMs: retryDelayMs(attempt, policy, () => 1) });
  }
  return schedule;
}
