import { afterFailure, classifySmtpError, isRateLimitExempt, retryDelayMs, retrySchedule } from './delivery-policy.js';

const policy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 6000 };

describe('classifySmtpError', () => {
  it.each([
    ['550 on the recipient', { responseCode: 550, code: 'EENVELOPE', message: 'Recipient rejected' }, 'permanent'],
    ['552 on the message', { responseCode: 552, code: 'EMESSAGE', message: 'Too big' }, 'permanent'],
    ['5xx without a code', { responseCode: 554, message: 'No' }, 'permanent'],
    ['451 greylisting', { responseCode: 451, code: 'EMESSAGE', message: 'Try later' }, 'temporary'],
    ['421 shutting down', { responseCode: 421, code: 'EENVELOPE', message: 'Bye' }, 'temporary'],
    ['535 authentication failed (our configuration)', { responseCode: 535, code: 'EAUTH', message: 'Bad credentials' }, 'temporary'],
    ['connection refused', { code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:25' }, 'temporary'],
    ['a timeout', { code: 'ETIMEDOUT', message: 'Timeout' }, 'temporary'],
    ['a TLS failure with 5xx', { responseCode: 530, code: 'ETLS', message: 'Must issue STARTTLS' }, 'temporary'],
    ['something odd', 'boom', 'temporary'],
  ])('%s is %s', (_label, error, kind) => {
    expect(classifySmtpError(error).kind).toBe(kind);
  });

  it('keeps a short one-line message', () => {
    const failure = classifySmtpError({ responseCode: 451, message: `line one\nline two ${'x'.repeat(1000)}` });
    expect(failure.message).not.toContain('\n');
    expect(failure.message.length).toBeLessThanOrEqual(500);
  });
});

describe('retryDelayMs', () => {
  it.each([
    [1, 500, 1000],
    [2, 1000, 2000],
    [3, 2000, 4000],
    [4, 3000, 6000],
    [30, 3000, 6000],
  ])('after failure %i waits between %i and %i ms', (attempt, min, max) => {
    expect(retryDelayMs(attempt, policy, () => 0)).toBe(min);
    expect(retryDelayMs(attempt, policy, () => 1)).toBe(max);
    const drawn = retryDelayMs(attempt, policy);
    expect(drawn).toBeGreaterThanOrEqual(min);
    expect(drawn).toBeLessThanOrEqual(max);
  });

  it('spreads mails that failed together (jitter)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(3, policy)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('afterFailure', () => {
  const temporary = { kind: 'temporary' as const, message: '451' };
  const permanent = { kind: 'permanent' as const, message: '550' };

  it.each([
    [1, temporary, 'pending'],
    [4, temporary, 'pending'],
    [5, temporary, 'dead'],
    [9, temporary, 'dead'],
    [1, permanent, 'failed'],
    [5, permanent, 'failed'],
  ])('attempt %i failing %o -> %s', (attempts, failure, status) => {
    expect(afterFailure(attempts, failure, policy).status).toBe(status);
  });

  it('gives the retry delay of the attempt', () => {
    expect(afterFailure(2, temporary, policy, () => 1)).toEqual({ status: 'pending', retryInMs: 2000 });
  });
});

describe('the retry schedule', () => {
  it('has one delay before each attempt after the first', () => {
    expect(retrySchedule(policy)).toEqual([
      { attempt: 1, minMs: 500, maxMs: 1000 },
      { attempt: 2, minMs: 1000, maxMs: 2000 },
      { attempt: 3, minMs: 2000, maxMs: 4000 },
      { attempt: 4, minMs: 3000, maxMs: 6000 },
    ]);
  });
});

describe('rate-limit exemptions', () => {
  it('always sends the password-changed notice, and only it', () => {
    expect(isRateLimitExempt('password-changed')).toBe(true);
    expect(isRateLimitExempt('password-reset')).toBe(false);
    expect(isRateLimitExempt('activation')).toBe(false);
  });
});
