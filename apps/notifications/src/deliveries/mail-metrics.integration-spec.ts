import { randomUUID } from 'node:crypto';
import { processMetrics } from '#libs/platform/metrics.js';
import { NotificationsTestDatabase } from '../database-harness-spec.js';
import { UnfinishedMailGauges } from './mail-metrics.js';

const db = new NotificationsTestDatabase();
let gauges: UnfinishedMailGauges;

beforeAll(async () => {
  await db.start();
  gauges = new UnfinishedMailGauges(db.dataSource);
  gauges.onApplicationBootstrap();
});
afterAll(async () => {
  gauges.onModuleDestroy();
  await db.stop();
});
beforeEach(() => db.dataSource.query('DELETE FROM deliveries'));

/** A mail in `status`, asked for `createdAgo` ago, its retry or attempt `sinceAgo` ago (negative: to come). */
async function mail(
  status: string,
  createdAgo: string,
  next: { nextAttemptIn?: string; lastAttemptAgo?: string; roomWaitEndsIn?: string; roomGivenAgo?: string } = {},
): Promise<void> {
  await db.dataSource.query(
    `INSERT INTO deliveries (id, event_id, event_type, recipient, template, locale, status, attempts, created_at, next_attempt_at, last_attempt_at, rate_wait_until,
       wait_ended_at)
     VALUES ($1, $2, 'identity.user.invited', 'a@example.test', 'activation', 'en', $3, 1, now() - $4::interval,
             now() + $5::interval, now() - $6::interval, now() + $7::interval, now() - $8::interval)`,
    [
      randomUUID(),
      randomUUID(),
      status,
      createdAgo,
      next.nextAttemptIn ?? null,
      next.lastAttemptAgo ?? null,
      next.roomWaitEndsIn ?? null,
      next.roomGivenAgo ?? null,
    ],
  );
}

/** A gauge's value as a scrape reads it. */
async function scraped(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const { values } = await processMetrics.getSingleMetric(name)!.get();
  return values.find((sample) => Object.entries(labels).every(([label, value]) => sample.labels[label] === value))?.value;
}

describe('the mails under way, read on scrape', () => {
  it('are none, and none overdue, when every mail is done', async () => {
    await mail('sent', '2 hours');
    await mail('dead', '3 hours');
    expect(await scraped('portico_mail_unfinished', { status: 'pending' })).toBe(0);
    expect(await scraped('portico_mail_unfinished', { status: 'sending' })).toBe(0);
    expect(await scraped('portico_mail_overdue_seconds')).toBe(0);
  });

  it('count pending and sending mails; the oldest of them is overdue since asked for, also while it waits for a later retry (SMTP away)', async () => {
    await mail('pending', '2 hours', { nextAttemptIn: '10 minutes' });
    await mail('sending', '1 minute', { lastAttemptAgo: '30 seconds' });
    await mail('sent', '5 hours');
    expect(await scraped('portico_mail_unfinished', { status: 'pending' })).toBe(1);
    expect(await scraped('portico_mail_unfinished', { status: 'sending' })).toBe(1);
    const overdue = (await scraped('portico_mail_overdue_seconds'))!;
    expect(overdue).toBeGreaterThanOrEqual(2 * 3600);
    expect(overdue).toBeLessThan(2 * 3600 + 60);
  });

  it('count a mail waiting for room under a rate limit as pending, but overdue only once its wait should have ended', async () => {
    await mail('pending', '40 minutes', { nextAttemptIn: '15 minutes', roomWaitEndsIn: '20 minutes' });
    expect(await scraped('portico_mail_unfinished', { status: 'pending' })).toBe(1);
    expect(await scraped('portico_mail_overdue_seconds')).toBe(0);
    await db.dataSource.query(`UPDATE deliveries SET rate_wait_until = now() - interval '1 minute'`);
    expect(await scraped('portico_mail_overdue_seconds')).toBeGreaterThanOrEqual(60);
  });

  it('count a mail that waited for room overdue from when it got room, not from when it was asked for: a failure right after a long wait', async () => {
    await mail('pending', '70 minutes', { nextAttemptIn: '5 seconds', roomGivenAgo: '2 minutes' });
    const overdue = (await scraped('portico_mail_overdue_seconds'))!;
    expect(overdue).toBeGreaterThanOrEqual(2 * 60);
    expect(overdue).toBeLessThan(3 * 60);
    await mail('sending', '10 minutes', { lastAttemptAgo: '10 seconds' });
    expect(await scraped('portico_mail_overdue_seconds')).toBeGreaterThanOrEqual(10 * 60);
  });

  it('count a mail still waiting for room past the end of its wait overdue from that end', async () => {
    await mail('pending', '70 minutes', { nextAttemptIn: '5 minutes', roomWaitEndsIn: '-3 minutes' });
    const overdue = (await scraped('portico_mail_overdue_seconds'))!;
    expect(overdue).toBeGreaterThanOrEqual(3 * 60);
    expect(overdue).toBeLessThan(4 * 60);
  });

  it('are overdue since asked for, whether being sent, never tried, or past their retry time', async () => {
    await mail('sending', '20 minutes', { lastAttemptAgo: '10 seconds' });
    await mail('pending', '3 minutes', { nextAttemptIn: '-5 minutes' });
    const overdue = (await scraped('portico_mail_overdue_seconds'))!;
    expect(overdue).toBeGreaterThanOrEqual(20 * 60);
    expect(overdue).toBeLessThan(21 * 60);
  });
});
