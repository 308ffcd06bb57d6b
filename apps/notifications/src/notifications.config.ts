import {
  boolean,
  commonEnv,
  ConfigError,
  databaseEnv,
  eventsStreamEnv,
  EVENTS_RETENTION_MS,
  integer,
  loadConfig,
  text,
  url,
  type ConfigOf,
  type EnvVar,
} from '#libs/platform/index.js';
import { EVENT_MEMORY_DAYS, retrySchedule } from './deliveries/delivery-policy.js';

/**
 * Days a line of the delivery log is kept: a whole number of at least {@link EVENT_MEMORY_DAYS},
 * since the line is also the record that keeps its event from mailing twice, and must outlive
 * every delivery of that event.
 */
function deliveryRetentionDays(): EnvVar<number> {
  // No lower bound of its own: anything below EVENT_MEMORY_DAYS is refused below, saying why.
  const days = integer(
    'Days a line of the delivery log (recipient, status, errors) is kept after its mail was recorded, then deleted',
    Number.MIN_SAFE_INTEGER,
    3650,
    30,
  );
  return {
    ...days,
    parse(raw) {
      const value = days.parse(raw);
      if (value < EVENT_MEMORY_DAYS)
        throw new Error(
          `${value} is below ${EVENT_MEMORY_DAYS}: a mail's delivery record is what keeps its event from mailing twice, and the events stream may deliver that event again for ${EVENT_MEMORY_DAYS - 1} days (${EVENT_MEMORY_DAYS} leaves a day's margin)`,
        );
      return value;
    },
  };
}

/** Every environment variable of the notifications service. */
export const notificationsEnv = {
  ...commonEnv,
  ...databaseEnv,
  ...eventsStreamEnv,
  HEALTH_PORT: integer(
    'Port of the HTTP server of the probes (/health/live, /health/ready) and of Prometheus (/metrics); keep it internal (0: off)',
    0,
    65535,
    3003,
  ),
  /** Where mail goes; `smtps://` is TLS from the first byte, credentials (percent-encoded) in the URL. */
  SMTP_URL: url('SMTP server, e.g. smtp://user:pass@mail:587 or smtps://mail:465', ['smtp', 'smtps'], 'smtp://127.0.0.1:1025'),
  /** For `smtp://`: refuse to send unless the server offers STARTTLS. */
  SMTP_REQUIRE_TLS: boolean('Require STARTTLS on smtp:// connections', false),
  /** Check the SMTP server's certificate (turn off only for a self-signed test server). */
  SMTP_TLS_REJECT_UNAUTHORIZED: boolean("Verify the SMTP server's TLS certificate", true),
  /** A PEM file of extra certificate authorities to trust for the SMTP server ("-": the system's). */
  SMTP_TLS_CA_FILE: text('PEM file of CAs trusted for the SMTP server ("-": none extra)', '-'),
  /** Open SMTP connections kept by each replica (a pool; mails are sent over them in parallel). */
  SMTP_POOL_SIZE: integer('SMTP connections kept open by each replica', 1, 100, 4),
  /** Connection, greeting and inactivity timeout of one SMTP exchange. */
  SMTP_TIMEOUT_MS: integer('Timeout of SMTP connection, greeting and each reply (ms)', 500, 300_000, 30_000),
  MAIL_FROM: text('Sender of every mail', 'Portico <no-reply@portico.local>'),
  PUBLIC_WEB_URL: url('Base URL of the web panel; links in mails point under it', ['http', 'https'], 'http://localhost:5173'),
  PRODUCT_NAME: text('Product name shown in mails', 'Portico'),
  /** A folder of `<template>.<locale>.{subject,text,html}` files that replace or add to the built-in texts. */
  MAIL_TEMPLATES_DIR: text('Folder of template overrides, <template>.<locale>.{subject,text,html} ("-": none)', '-'),
  /** Mails one replica handles at once. */
  MAIL_CONCURRENCY: integer('Mails one replica handles at once', 1, 256, 16),
  /** SMTP attempts after which a temporarily failing mail becomes a dead letter (status `dead`). */
  MAIL_MAX_ATTEMPTS: integer('SMTP attempts before a temporarily failing mail is dead', 1, 100, 12),
  /** First retry delay; it doubles each attempt (with jitter) up to MAIL_RETRY_MAX_MS. */
  MAIL_RETRY_BASE_MS: integer('First retry delay after a temporary SMTP failure (ms), doubled each time', 10, 3_600_000, 5000),
  MAIL_RETRY_MAX_MS: integer('Longest retry delay (ms)', 10, 86_400_000, 1_800_000),
  /**
   * How long an event in hand may go without news before JetStream gives it to another replica;
   * also the lease of a mail being sent. Both are renewed every third of it while the replica
   * works on the mail, however long its SMTP exchange takes (that is MAIL_SEND_DEADLINE_MS).
   */
  MAIL_ACK_WAIT_MS: integer(
    'How long JetStream waits for a silent replica before redelivering its event, and the lease of a mail being sent (ms); both renewed while it is sent',
    1000,
    3_600_000,
    60_000,
  ),
  /**
   * How long one whole SMTP send (connection, greeting, every command and the reply to the data)
   * may take before it is abandoned and the mail retried later. Only bounds a server that keeps
   * answering, slowly, for ever (SMTP_TIMEOUT_MS bounds each silence): abandoning a send that is
   * merely slow can send the mail twice (the server may have it already), so keep it generous,
   * well above SMTP_TIMEOUT_MS. It has nothing to do with MAIL_ACK_WAIT_MS: the lease and the
   * event are renewed while the send lasts.
   */
  MAIL_SEND_DEADLINE_MS: integer('Longest one SMTP send may take before it is abandoned and retried (ms); above SMTP_TIMEOUT_MS', 5000, 3_600_000, 300_000),
  /**
   * Mails one address may receive in MAIL_RATE_WINDOW_MINUTES (0: no limit), counted apart for
   * password resets the person asked for through the reset form and for everything else except
   * security notices (which have MAIL_RATE_NOTICES_PER_RECIPIENT): each has this many.
   */
  MAIL_RATE_PER_RECIPIENT: integer('Mails one address may receive per window, self-service resets counted apart (0: unlimited)', 0, 1_000_000, 10),
  /** Security notices (password, login e-mail, second step or owner changed) one address may receive in MAIL_RATE_WINDOW_MINUTES (0: no limit), counted apart from other mails. */
  MAIL_RATE_NOTICES_PER_RECIPIENT: integer('Security notices one address may receive per window (0: unlimited)', 0, 1_000_000, 20),
  /** Mails one account may cause in MAIL_RATE_WINDOW_MINUTES (0: no limit), in each budget (other mails, self-service resets, security notices). */
  MAIL_RATE_PER_ACCOUNT: integer(
    'Mails of each kind (other, self-service resets, notices) one account may cause per window (0: unlimited)',
    0,
    10_000_000,
    1000,
  ),
  /** The sliding window of both rate limits. */
  MAIL_RATE_WINDOW_MINUTES: integer('Sliding window of the mail rate limits (minutes)', 1, 10_080, 60),
  /**
   * How long a mail carrying a link (invitation, reset, e-mail confirmation) over a rate limit waits
   * for room in the window before it is suppressed (never past its link's expiry); 0: suppressed at
   * once. 60 by default, the default window: a mail refused by a full window finds room within it
   * unless its recipient (or account) is flooded all that time (docs/notifications.md, "Rate limits").
   */
  MAIL_RATE_MAX_WAIT_MINUTES: integer(
    'Longest a link mail over a rate limit waits for room before it is suppressed (minutes; 0: suppressed at once)',
    0,
    1440,
    60,
  ),
  /**
   * How long the delivery log keeps a mail's line (the recipient's address, status, errors) once
   * the mail is done: lines of mails sent, failed, dead, suppressed or cancelled are deleted this
   * many days after the mail was recorded; a mail still pending or being sent is kept. At least
   * {@link EVENT_MEMORY_DAYS} (8), for the line is what keeps a redelivered event from mailing again.
   */
  DELIVERY_RETENTION_DAYS: deliveryRetentionDays(),
};

/** The validated configuration of the notifications service. */
export type NotificationsConfig = ConfigOf<typeof notificationsEnv>;

/**
 * What is wrong between variables each valid on its own (empty: nothing): a send deadline not
 * above SMTP_TIMEOUT_MS would abandon a send while the server may still rightly be at one reply.
 */
export function notificationsConfigProblems(
  config: Pick<
    NotificationsConfig,
    'MAIL_SEND_DEADLINE_MS' | 'SMTP_TIMEOUT_MS' | 'MAIL_MAX_ATTEMPTS' | 'MAIL_RETRY_BASE_MS' | 'MAIL_RETRY_MAX_MS' | 'MAIL_RATE_MAX_WAIT_MINUTES'
  >,
): string[] {
  const problems: string[] = [];
  // A link mail may wait for room first, then be retried for the whole schedule.
  const waitMs = config.MAIL_RATE_MAX_WAIT_MINUTES * 60_000;
  const retrySpanMs = longestRetrySpanMs(config);
  if (waitMs + retrySpanMs >= EVENTS_RETENTION_MS)
    problems.push(
      `MAIL_MAX_ATTEMPTS: ${config.MAIL_MAX_ATTEMPTS} attempts with MAIL_RETRY_BASE_MS ${config.MAIL_RETRY_BASE_MS} and MAIL_RETRY_MAX_MS ${config.MAIL_RETRY_MAX_MS} can retry a mail for ${Math.round(retrySpanMs / 3_600_000)} h, after a wait for room of up to MAIL_RATE_MAX_WAIT_MINUTES ${config.MAIL_RATE_MAX_WAIT_MINUTES}, as long as the events stream keeps an event (${EVENTS_RETENTION_MS / 3_600_000} h) or longer: the event would go first and the mail stay pending for ever; lower one of them`,
    );
  if (config.MAIL_SEND_DEADLINE_MS <= config.SMTP_TIMEOUT_MS)
    problems.push(
      `MAIL_SEND_DEADLINE_MS: ${config.MAIL_SEND_DEADLINE_MS} must be above SMTP_TIMEOUT_MS (${config.SMTP_TIMEOUT_MS}), which bounds a single reply of one send`,
    );
  return problems;
}

/** The longest a temporarily failing mail can be retried for: the sum of the longest delays between its attempts. */
function longestRetrySpanMs(config: Pick<NotificationsConfig, 'MAIL_MAX_ATTEMPTS' | 'MAIL_RETRY_BASE_MS' | 'MAIL_RETRY_MAX_MS'>): number {
  const schedule = retrySchedule({ maxAttempts: config.MAIL_MAX_ATTEMPTS, baseDelayMs: config.MAIL_RETRY_BASE_MS, maxDelayMs: config.MAIL_RETRY_MAX_MS });
  return schedule.reduce((total, step) => total + step.maxMs, 0);
}

/** Reads and validates the configuration of the notifications service; throws a {@link ConfigError} naming every problem. */
export function loadNotificationsConfig(env: NodeJS.ProcessEnv = process.env): NotificationsConfig {
  const config = loadConfig(notificationsEnv, env);
  // Unset, the deadline follows a long SMTP timeout (at least twice it): a setting valid before it existed stays valid.
  if (!env.MAIL_SEND_DEADLINE_MS?.trim()) config.MAIL_SEND_DEADLINE_MS = Math.max(config.MAIL_SEND_DEADLINE_MS, 2 * config.SMTP_TIMEOUT_MS);
  const problems = notificationsConfigProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
