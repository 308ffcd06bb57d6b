import { ConfigError } from '#libs/platform/index.js';
import { loadNotificationsConfig } from './notifications.config.js';

/** The problems `env` is refused with (none: accepted). */
function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadNotificationsConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
}

describe('the notifications configuration', () => {
  it('reads NATS_STREAM_REPLICAS, the NATS servers that keep the events stream it makes (1 unless set)', () => {
    expect(loadNotificationsConfig({}).NATS_STREAM_REPLICAS).toBe(1);
    expect(loadNotificationsConfig({ NATS_STREAM_REPLICAS: '3' }).NATS_STREAM_REPLICAS).toBe(3);
  });

  it('gives one SMTP send five minutes by default, far above the SMTP timeout and unrelated to the ack wait', () => {
    expect(loadNotificationsConfig({})).toMatchObject({ MAIL_SEND_DEADLINE_MS: 300_000, SMTP_TIMEOUT_MS: 30_000, MAIL_ACK_WAIT_MS: 60_000 });
    expect(loadNotificationsConfig({ MAIL_ACK_WAIT_MS: '1000' }).MAIL_SEND_DEADLINE_MS).toBe(300_000);
  });

  it.each([
    [{ MAIL_SEND_DEADLINE_MS: '30000' }, false],
    [{ MAIL_SEND_DEADLINE_MS: '29999' }, false],
    [{ MAIL_SEND_DEADLINE_MS: '30001' }, true],
    [{ MAIL_SEND_DEADLINE_MS: '5000', SMTP_TIMEOUT_MS: '4000' }, true],
    [{ MAIL_SEND_DEADLINE_MS: '100000', SMTP_TIMEOUT_MS: '120000' }, false],
    [{ MAIL_SEND_DEADLINE_MS: '300000', SMTP_TIMEOUT_MS: '300000' }, false],
  ])('with %j is accepted: %s (the send deadline must be above SMTP_TIMEOUT_MS)', (env, accepted) => {
    const problems = problemsOf(env);
    if (accepted) expect(problems).toEqual([]);
    else expect(problems).toEqual([expect.stringMatching(/^MAIL_SEND_DEADLINE_MS: \d+ must be above SMTP_TIMEOUT_MS \(\d+\)/)]);
  });

  it('follows a long SMTP timeout when the deadline is not set (a configuration valid before it existed stays valid)', () => {
    expect(loadNotificationsConfig({ SMTP_TIMEOUT_MS: '300000' }).MAIL_SEND_DEADLINE_MS).toBe(600_000);
  });

  it('refuses retries that could outlast the events stream (an event gone before its mail is done would leave it pending for ever)', () => {
    expect(problemsOf({ MAIL_MAX_ATTEMPTS: '12' })).toEqual([]);
    expect(problemsOf({ MAIL_MAX_ATTEMPTS: '100', MAIL_RETRY_MAX_MS: '86400000' })).toEqual([
      expect.stringMatching(/^MAIL_MAX_ATTEMPTS: 100 attempts .* as long as the events stream keeps an event \(168 h\)/),
    ]);
  });

  it("counts a link mail's wait for room before its retries against the events stream (review: 154 h of retries after 24 h of waiting were taken)", () => {
    const retries = { MAIL_MAX_ATTEMPTS: '17', MAIL_RETRY_BASE_MS: '60000', MAIL_RETRY_MAX_MS: '86400000' };
    expect(problemsOf(retries)).toEqual([]);
    expect(problemsOf({ ...retries, MAIL_RATE_MAX_WAIT_MINUTES: '1440' })).toEqual([
      expect.stringContaining('after a wait for room of up to MAIL_RATE_MAX_WAIT_MINUTES 1440'),
    ]);
  });

  it('lets a link mail wait for room 60 minutes unless MAIL_RATE_MAX_WAIT_MINUTES says otherwise (0: suppressed at once)', () => {
    expect(loadNotificationsConfig({}).MAIL_RATE_MAX_WAIT_MINUTES).toBe(60);
    expect(loadNotificationsConfig({ MAIL_RATE_MAX_WAIT_MINUTES: '0' }).MAIL_RATE_MAX_WAIT_MINUTES).toBe(0);
    expect(problemsOf({})).toEqual([]);
  });

  it('keeps the delivery log 30 days unless DELIVERY_RETENTION_DAYS says otherwise', () => {
    expect(loadNotificationsConfig({}).DELIVERY_RETENTION_DAYS).toBe(30);
    expect(loadNotificationsConfig({ DELIVERY_RETENTION_DAYS: '8' }).DELIVERY_RETENTION_DAYS).toBe(8);
    expect(loadNotificationsConfig({ DELIVERY_RETENTION_DAYS: '3650' }).DELIVERY_RETENTION_DAYS).toBe(3650);
  });

  it.each(['7', '1', '0', '-1'])(
    'refuses DELIVERY_RETENTION_DAYS=%s: a delivery record must outlive the event that made it (the stream keeps it 7 days), or a redelivery mails again',
    (value) => {
      expect(problemsOf({ DELIVERY_RETENTION_DAYS: value })).toEqual([
        `DELIVERY_RETENTION_DAYS: ${value} is below 8: a mail's delivery record is what keeps its event from mailing twice, and the events stream may deliver that event again for 7 days (8 leaves a day's margin)`,
      ]);
    },
  );

  it.each(['3651', 'a month', '30.5'])('refuses DELIVERY_RETENTION_DAYS=%s', (value) => {
    expect(problemsOf({ DELIVERY_RETENTION_DAYS: value })).toEqual([expect.stringMatching(/^DELIVERY_RETENTION_DAYS: /)]);
  });

  it.each(['4999', '3600001', 'soon'])('refuses MAIL_SEND_DEADLINE_MS=%s', (value) => {
    expect(problemsOf({ MAIL_SEND_DEADLINE_MS: value })).toEqual([expect.stringMatching(/^MAIL_SEND_DEADLINE_MS: /)]);
  });
});
