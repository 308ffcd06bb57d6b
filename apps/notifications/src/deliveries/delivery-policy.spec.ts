import { MAIL_TEMPLATES } from '#libs/contracts/index.js';
import type { MailTemplate } from '#libs/contracts/index.js';
import {
  afterFailure,
  budgetLimits,
  classifySmtpError,
  countedAddress,
  deliveryKey,
  rateBudget,
  rateWaitUntil,
  retryDelayMs,
  retrySchedule,
} from './delivery-policy.js';

const policy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 6000 };

/** An SMTP refusal shaped as nodemailer's SMTP connection makes it (`_formatError`): the reply in `response` and after the message. */
function refusal(code: 'EENVELOPE' | 'EMESSAGE' | 'EAUTH', command: string, reply: string, prefix = 'Refused') {
  return Object.assign(new Error(`${prefix}: ${reply}`), { code, response: reply, responseCode: Number(reply.slice(0, 3)), command });
}

describe('classifySmtpError', () => {
  it.each([
    ['550 on the recipient', { responseCode: 550, code: 'EENVELOPE', command: 'RCPT TO', message: 'Recipient rejected' }, 'permanent'],
    ['552 on the message', { responseCode: 552, code: 'EMESSAGE', command: 'DATA', message: 'Too big' }, 'permanent'],
    ['5xx without a code or command (not a reply nodemailer reports)', { responseCode: 554, message: 'No' }, 'temporary'],
    ['451 greylisting', { responseCode: 451, code: 'EMESSAGE', message: 'Try later' }, 'temporary'],
    ['421 shutting down', { responseCode: 421, code: 'EENVELOPE', message: 'Bye' }, 'temporary'],
    ['535 authentication failed (our configuration)', { responseCode: 535, code: 'EAUTH', message: 'Bad credentials' }, 'temporary'],
    ['connection refused', { code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:25' }, 'temporary'],
    ['a timeout', { code: 'ETIMEDOUT', message: 'Timeout' }, 'temporary'],
    ['a TLS failure with 5xx', { responseCode: 530, code: 'ETLS', message: 'Must issue STARTTLS' }, 'temporary'],
    ['a send abandoned (its signal aborted)', { code: 'EABORT', message: 'Message sending aborted' }, 'temporary'],
    ['something odd', 'boom', 'temporary'],
  ])('%s is %s', (_label, error, kind) => {
    expect(classifySmtpError(error).kind).toBe(kind);
  });

  describe('replies as nodemailer reports them', () => {
    it.each([
      [
        'unknown mailbox at RCPT TO (5.1.1)',
        refusal('EENVELOPE', 'RCPT TO', '550 5.1.1 <ada@example.com>: Recipient address rejected: User unknown', 'Recipient command failed'),
      ],
      [
        'every recipient refused, mailbox disabled (5.2.1)',
        refusal('EENVELOPE', 'RCPT TO', '550 5.2.1 <ada@example.com>: Mailbox disabled', "Can't send mail - all recipients were rejected"),
      ],
      ['mailbox full at RCPT TO (5.2.2)', refusal('EENVELOPE', 'RCPT TO', '552 5.2.2 Mailbox full')],
      ['no such user at RCPT TO, without enhanced status', refusal('EENVELOPE', 'RCPT TO', '550 No such user here')],
      [
        "Exchange Online's unknown recipient at RCPT TO (550 5.4.1)",
        refusal('EENVELOPE', 'RCPT TO', '550 5.4.1 Recipient address rejected: Access denied', 'Recipient command failed'),
      ],
      ['mailbox unavailable at RCPT TO (550 5.5.0)', refusal('EENVELOPE', 'RCPT TO', '550 5.5.0 Requested action not taken: mailbox unavailable')],
      ['user unknown at RCPT TO (550 5.0.0)', refusal('EENVELOPE', 'RCPT TO', '550 5.0.0 <ada@example.com>... User unknown')],
      ['content refused after DATA', refusal('EMESSAGE', 'DATA', '554 5.6.0 Message content rejected', 'Message failed')],
      ['message too big after DATA', refusal('EMESSAGE', 'DATA', '552 5.3.4 Message size exceeds fixed limit', 'Message failed')],
    ])('%s is permanent', (_label, error) => {
      expect(classifySmtpError(error).kind).toBe('permanent');
    });

    it.each([
      ['authentication required at MAIL FROM (530)', refusal('EENVELOPE', 'MAIL FROM', '530 5.7.0 Authentication required', 'Mail command failed')],
      [
        'sender refused at MAIL FROM (553)',
        refusal('EENVELOPE', 'MAIL FROM', '553 5.7.1 <no-reply@portico.test>: Sender address rejected: not owned by user', 'Mail command failed'),
      ],
      [
        'sender domain unknown at MAIL FROM (550 5.1.8)',
        refusal('EENVELOPE', 'MAIL FROM', '550 5.1.8 <no-reply@portico.test>: Sender address rejected: Domain not found', 'Mail command failed'),
      ],
      ['any 5xx at MAIL FROM, without enhanced status', refusal('EENVELOPE', 'MAIL FROM', '550 Sender not allowed', 'Mail command failed')],
      [
        'relaying denied at RCPT TO (554 5.7.1)',
        refusal('EENVELOPE', 'RCPT TO', '554 5.7.1 <ada@example.com>: Relay access denied', "Can't send mail - all recipients were rejected"),
      ],
      ['authentication required at RCPT TO (530)', refusal('EENVELOPE', 'RCPT TO', '530 Authentication required', 'Recipient command failed')],
      ['relaying denied at RCPT TO (550 5.7.1)', refusal('EENVELOPE', 'RCPT TO', '550 5.7.1 Unable to relay', 'Recipient command failed')],
      ['a 554 at RCPT TO without a mailbox status (554 5.4.0)', refusal('EENVELOPE', 'RCPT TO', '554 5.4.0 Transaction failed', 'Recipient command failed')],
      [
        'sender not authorized after DATA (550 5.7.26, DMARC)',
        refusal('EMESSAGE', 'DATA', '550 5.7.26 Unauthenticated email is not accepted', 'Message failed'),
      ],
      ['policy refusal of the DATA command', refusal('EENVELOPE', 'DATA', '554 5.7.1 Service unavailable', 'Data command failed')],
      ['a 5xx to the DATA command itself', refusal('EENVELOPE', 'DATA', '554 Transaction failed', 'Data command failed')],
    ])('%s is temporary (our set-up, not the mail)', (_label, error) => {
      expect(classifySmtpError(error).kind).toBe('temporary');
    });
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

describe('rate-limit budgets', () => {
  it.each<[MailTemplate, string]>([
    ['password-changed', 'notice'],
    ['ownership-handed-over', 'notice'],
    ['email-changed', 'notice'],
    ['subuser-email-changed', 'notice'],
    ['second-step-changed', 'notice'],
    ['second-step-blocked', 'notice'],
    ['recovery-code-used', 'notice'],
    ['activation', 'standard'],
    ['added-to-account', 'standard'],
    ['subuser-activation', 'standard'],
    ['ownership-received', 'standard'],
    ['email-change-confirm', 'standard'],
    ['email-change-in-use', 'standard'],
  ])(
    'count the security notices (password changed, account handed over, login e-mail changed, a subuser e-mail changed, second step changed or blocked, a recovery code used) in a budget of their own, and only them: %s in %s',
    (template, budget) => {
      expect(rateBudget(template, undefined)).toBe(budget);
    },
  );

  it('count a password reset its person asked for in a budget of its own, one an admin sent as any other mail', () => {
    expect(rateBudget('password-reset', 'self')).toBe('self-service');
    expect(rateBudget('subuser-password-reset', 'self')).toBe('self-service');
    expect(rateBudget('password-reset', 'admin')).toBe('standard');
    expect(rateBudget('subuser-password-reset', 'admin')).toBe('standard');
    expect(rateBudget('password-reset', undefined)).toBe('standard');
    expect(rateBudget('activation', 'self')).toBe('standard');
  });

  it('give the notices their own figure per recipient, and every budget the figure per account', () => {
    const settings = { perRecipient: 10, noticesPerRecipient: 20, perAccount: 1000, windowMinutes: 60, maxWaitMinutes: 60 };
    expect(budgetLimits('notice', settings)).toEqual({ budget: 'notice', perRecipient: 20, perAccount: 1000, windowMinutes: 60 });
    expect(budgetLimits('self-service', settings)).toEqual({ budget: 'self-service', perRecipient: 10, perAccount: 1000, windowMinutes: 60 });
    expect(budgetLimits('standard', settings)).toEqual({ budget: 'standard', perRecipient: 10, perAccount: 1000, windowMinutes: 60 });
  });
});

describe('an address as the rate limits count it', () => {
  it.each([
    ['Ada+1@Example.com', 'ada@example.com'],
    [' ada+news+2026@example.com ', 'ada@example.com'],
    ['ada@example.com', 'ada@example.com'],
    ['a.d.a@gmail.com', 'a.d.a@gmail.com'],
    ['+tag@example.com', '@example.com'],
    ['no-at-sign+x', 'no-at-sign+x'],
  ])('counts %p as %p (a +tag dropped, dots kept)', (address, counted) => {
    expect(countedAddress(address)).toBe(counted);
  });
});

describe('the key of a delivery record', () => {
  const eventId = '0b7e9a52-5f0e-4a53-b3c4-1a2b3c4d5e6f';

  it.each([
    ['activation', eventId],
    ['added-to-account', eventId],
    ['subuser-activation', eventId],
    ['password-reset', eventId],
    ['subuser-password-reset', eventId],
    ['password-changed', eventId],
    ['email-change-confirm', eventId],
    ['email-change-in-use', eventId],
    ['email-changed', eventId],
    ['subuser-email-changed', eventId],
    // RFC 9562 version 5 UUIDs of the template within the event id (as Python's uuid.uuid5 gives them).
    ['ownership-received', '635f910e-c469-5872-8bd0-657f5228a412'],
    ['ownership-handed-over', '026ff030-599d-5517-a689-2b7753356c65'],
  ] as const)('of a %s mail is %s', (template, key) => {
    expect(deliveryKey(eventId, template)).toBe(key);
  });

  it('tells apart every mail of an event, and is the same every time', () => {
    const keys = MAIL_TEMPLATES.map((template) => deliveryKey(eventId, template));
    expect(new Set(keys.filter((key) => key !== eventId)).size).toBe(2);
    expect(MAIL_TEMPLATES.map((template) => deliveryKey(eventId, template))).toEqual(keys);
    expect(deliveryKey('1b7e9a52-5f0e-4a53-b3c4-1a2b3c4d5e6f', 'ownership-received')).not.toBe(keys[MAIL_TEMPLATES.indexOf('ownership-received')]);
  });
});

describe('how long a mail over its rate limit waits for room', () => {
  const now = Date.parse('2026-12-03T10:00:00.000Z');
  const link = { budget: 'standard', carriesLink: true, expiresAt: '2026-12-10T10:00:00.000Z' } as const;

  it('lets a mail carrying a link wait MAIL_RATE_MAX_WAIT_MINUTES, in the standard and self-service budgets', () => {
    expect(rateWaitUntil(link, 60, now)).toEqual(new Date('2026-12-03T11:00:00.000Z'));
    expect(rateWaitUntil({ ...link, budget: 'self-service' }, 30, now)).toEqual(new Date('2026-12-03T10:30:00.000Z'));
  });

  it('never past the expiry of its link', () => {
    expect(rateWaitUntil({ ...link, expiresAt: '2026-12-03T10:20:00.000Z' }, 60, now)).toEqual(new Date('2026-12-03T10:20:00.000Z'));
    expect(rateWaitUntil({ ...link, expiresAt: 'not a date' }, 60, now)).toEqual(new Date('2026-12-03T11:00:00.000Z'));
  });

  it('suppresses at once a mail without a link, a notice, and every mail when the wait is 0', () => {
    expect(rateWaitUntil({ ...link, carriesLink: false }, 60, now)).toBeNull();
    expect(rateWaitUntil({ ...link, budget: 'notice' }, 60, now)).toBeNull();
    expect(rateWaitUntil(link, 0, now)).toBeNull();
  });
});
