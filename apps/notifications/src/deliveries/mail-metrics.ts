import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import type { MailTemplate } from '#libs/contracts/index.js';
import { GaugeReadOnScrape, processMetrics, ScrapedGauges } from '#libs/platform/metrics.js';

/** How an SMTP attempt ended: accepted, failed for now (tried again), refused for good, or the last of the attempts failed. */
export type AttemptOutcome = 'sent' | 'retry' | 'refused' | 'dead';

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
  unfinished: new GaugeReadOnScrape<'status'>({
    name: 'portico_mail_unfinished',
    help: 'Mails not done yet, by status: pending (waiting for an attempt, or for the next after a temporary failure) or sending',
    labelNames: ['status'],
  }),
  overdue: new GaugeReadOnScrape({
    name: 'portico_mail_overdue_seconds',
    help: 'How long the most overdue mail has waited to go out (0 when none): since it was asked for, since its retry time came, or since its attempt began (a mail waiting for a later retry is not overdue)',
  }),
};

/** Counts one SMTP attempt's outcome. */
export function countAttempt(template: MailTemplate, outcome: AttemptOutcome): void {
  mailMetrics.attempts.inc({ template, outcome });
}

/** Since when each mail under way could have gone out, and how long ago the earliest of those was. */
const OVERDUE_SQL = `
  SELECT COALESCE(extract(epoch FROM now() - min(CASE WHEN status = 'sending' THEN last_attempt_at ELSE COALESCE(next_attempt_at, created_at) END)), 0) AS seconds
    FROM deliveries
   WHERE status IN ('pending', 'sending') AND (status = 'sending' OR next_attempt_at IS NULL OR next_attempt_at <= now())`;

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
