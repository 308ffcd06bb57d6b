import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import type { MailTemplate } from '#libs/contracts/index.js';
import { GaugeReadOnScrape, processMetrics, ScrapedGauges } from '#libs/platform/metrics.js';

/** How an SMTP attempt ended: accepted, failed for now (tried again), refused for good, or the last of the attempts failed. */
export type AttemptOutcome = 'sent' | 'retry' | 'refused' | 'dead';

/**
 * How a mail ended without any SMTP attempt: `failed` (its event cannot make a mail: no usable
 * address, a field missing), `dead` (abandoned: its event left the stream before the mail was
 * done), `suppressed` (over a rate limit).
 */
export type UnattemptedStatus = 'failed' | 'dead' | 'suppressed';

/**
 * What notifications counts of its mails, and the mails under way read on scrape (docs/deploy.md,
 * section 10). The mails under way are one table, read alike by every replica: alert on the highest.
 */
export const mailMetrics = {
  attempts: new Counter<'template' | 'outcome'>({
    name: 'portico_mail_attempts_total',
    help: 'SMTP attempts this process made, by template and outcome: sent (accepted by the server), retry (a temporary failure, tried again later), refused (for good), dead (the last attempt failed)',
    labelNames: ['template', 'outcome'],
    registers: [processMetrics],
  }),
  unattempted: new Counter<'status'>({
    name: 'portico_mail_unattempted_total',
    help: 'Mails this process recorded done without an SMTP attempt, by status: failed (the event cannot make a mail, e.g. no usable address), dead (abandoned by the pruning: its event left the stream first), suppressed (over a rate limit)',
    labelNames: ['status'],
    registers: [processMetrics],
  }),
  unfinished: new GaugeReadOnScrape<'status'>({
    name: 'portico_mail_unfinished',
    help: 'Mails not done yet, by status: pending (waiting for an attempt, for the next after a temporary failure, or for room under a rate limit) or sending',
    labelNames: ['status'],
  }),
  overdue: new GaugeReadOnScrape({
    name: 'portico_mail_overdue_seconds',
    help: 'How long the mail not done yet (pending, waiting for a retry, or sending) that is most overdue has been due (0 when none): since it was asked for, or for a mail that waited for room under a rate limit since its wait ended; it keeps rising while SMTP is away',
  }),
};

/** Counts one SMTP attempt's outcome. */
export function countAttempt(template: MailTemplate, outcome: AttemptOutcome): void {
  mailMetrics.attempts.inc({ template, outcome });
}

/** Counts one mail recorded done without an SMTP attempt (or `mails` of them). */
export function countUnattempted(status: UnattemptedStatus, mails = 1): void {
  mailMetrics.unattempted.inc({ status }, mails);
}

/**
 * How long the mail not done yet that is most overdue has been due. Every such mail counts, also
 * one waiting for a later retry: during an SMTP outage each mail is either being tried or waiting
 * for its retry, and the gauge must rise all the same. A mail is due from when it was asked for
 * (the oldest found through `deliveries_unfinished_by_age`), except a mail held back on purpose,
 * waiting for room under a rate limit: it counts only once its wait should have ended
 * (`rate_wait_until`), from then (a person asking for resets over and over is not an outage), and
 * once it got room, from then (`wait_ended_at`): a temporary failure right after a wait of an hour
 * is not an hour overdue. Those that waited are read from the same partial index, filtered.
 */
const OVERDUE_SQL = `
  SELECT COALESCE(extract(epoch FROM now() - least(
      (SELECT min(created_at) FROM deliveries
        WHERE status IN ('pending', 'sending') AND rate_wait_until IS NULL AND wait_ended_at IS NULL),
      (SELECT min(coalesce(rate_wait_until, wait_ended_at)) FROM deliveries
        WHERE status IN ('pending', 'sending') AND coalesce(rate_wait_until, wait_ended_at) < now()))), 0) AS seconds`;

/** Reads the mails under way when Prometheus scrapes (through the partial index `deliveries_unfinished_by_age`). */
@Injectable()
export class UnfinishedMailGauges extends ScrapedGauges {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  protected readers(): Array<() => void> {
    return [
      mailMetrics.unfinished.read(async () => {
        const rows = await this.dataSource.query<Array<{ status: string; mails: string }>>(
          `SELECT status, count(*) AS mails FROM deliveries WHERE status IN ('pending', 'sending') GROUP BY status`,
        );
        const count = (status: string) => Number(rows.find((row) => row.status === status)?.mails ?? 0);
        return [
          { labels: { status: 'pending' }, value: count('pending') },
          { labels: { status: 'sending' }, value: count('sending') },
        ];
      }),
      mailMetrics.overdue.read(async () => {
        const [row] = await this.dataSource.query<Array<{ seconds: string }>>(OVERDUE_SQL);
        return [{ labels: {}, value: Math.max(0, Number(row?.seconds ?? 0)) }];
      }),
    ];
  }
}
