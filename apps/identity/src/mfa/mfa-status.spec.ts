import { mfaStatusOf } from './mfa-status.js';

describe('the status of two-step sign-in (GET /v1/me/mfa)', () => {
  const enabledAt = new Date('2026-03-01T09:00:00.000Z');
  const blockedAt = new Date('2026-03-05T17:30:12.345Z');

  it('is off and not blocked without a factor, or with one still being set up', () => {
    const off = { enabled: false, enabledAt: null, recoveryCodesLeft: 0, blocked: false, blockedAt: null };
    expect(mfaStatusOf(null, 0)).toEqual(off);
    expect(mfaStatusOf({ confirmedAt: null, blockedAt: null }, 10)).toEqual(off);
  });

  it('is on since the factor was confirmed, with its recovery codes left, and not blocked', () => {
    expect(mfaStatusOf({ confirmedAt: enabledAt, blockedAt: null }, 7)).toEqual({
      enabled: true,
      enabledAt: '2026-03-01T09:00:00.000Z',
      recoveryCodesLeft: 7,
      blocked: false,
      blockedAt: null,
    });
  });

  it('says the second step is blocked, and since when, while too many wrong codes block it', () => {
    expect(mfaStatusOf({ confirmedAt: enabledAt, blockedAt }, 10)).toEqual({
      enabled: true,
      enabledAt: '2026-03-01T09:00:00.000Z',
      recoveryCodesLeft: 10,
      blocked: true,
      blockedAt: '2026-03-05T17:30:12.345Z',
    });
  });
});
