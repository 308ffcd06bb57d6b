import type { DataSource } from 'typeorm';
import { recipientKey } from './delivery.store.js';

/**
 * Moves the clock of `recipient`'s standard mails on by `minutes`, as far as the rate limits can
 * tell: their counters and every time recorded of their mails go that far back. Tests of a window
 * of an hour then need not wait for it.
 */
export async function moveRateClockOn(dataSource: DataSource, recipient: string, minutes: number): Promise<void> {
  const shift = `make_interval(mins => $2::integer)`;
  await dataSource.query(`UPDATE mail_rate_buckets SET bucket = bucket - ${shift} WHERE key = $1`, [recipientKey(recipient, 'standard'), minutes]);
  await dataSource.query(
    `UPDATE deliveries SET created_at = created_at - ${shift}, next_attempt_at = next_attempt_at - ${shift}, rate_wait_until = rate_wait_until - ${shift}
     WHERE recipient = $1`,
    [recipient, minutes],
  );
}

/** The mails counted in `recipient`'s standard budget, in and out of the window. */
export async function countedMails(dataSource: DataSource, recipient: string): Promise<number> {
  const [{ n }] = await dataSource.query<Array<{ n: number }>>('SELECT coalesce(sum(count), 0)::int AS n FROM mail_rate_buckets WHERE key = $1', [
    recipientKey(recipient, 'standard'),
  ]);
  return n;
}
