import { mayActivate, mayReset, supersededBy, tokenLifetimeMs, tokenProblem, type LinkHolder } from './token-rules.js';

const issued = new Date('2026-03-01T12:00:00Z');
const later = (ms: number) => new Date(issued.getTime() + ms);
const HOUR = 3600_000;
const defaults = {
  ACTIVATION_TOKEN_TTL_HOURS: 168,
  RESET_TOKEN_TTL_MINUTES: 60,
  EMAIL_CHANGE_TOKEN_TTL_HOURS: 24,
  EMAIL_UNDO_TOKEN_TTL_HOURS: 168,
  MFA_CHALLENGE_TTL_MINUTES: 5,
};

describe('link token lifetimes (R3)', () => {
  it.each([
    ['activation', defaults, 7 * 24 * HOUR],
    ['reset', defaults, HOUR],
    ['activation', { ...defaults, ACTIVATION_TOKEN_TTL_HOURS: 48 }, 48 * HOUR],
    ['reset', { ...defaults, RESET_TOKEN_TTL_MINUTES: 15 }, 15 * 60_000],
    ['email-change', defaults, 24 * HOUR],
    ['email-change', { ...defaults, EMAIL_CHANGE_TOKEN_TTL_HOURS: 2 }, 2 * HOUR],
    ['email-undo', defaults, 7 * 24 * HOUR],
    ['email-undo', { ...defaults, EMAIL_UNDO_TOKEN_TTL_HOURS: 720 }, 720 * HOUR],
    ['sign-in', defaults, 5 * 60_000],
    ['sign-in', { ...defaults, MFA_CHALLENGE_TTL_MINUTES: 30 }, 30 * 60_000],
    ['invitation', defaults, 7 * 24 * HOUR],
    ['invitation', { ...defaults, ACTIVATION_TOKEN_TTL_HOURS: 48 }, 48 * HOUR],
  ] as const)('%s with %o lives %i ms', (purpose, config, expected) => {
    expect(tokenLifetimeMs(purpose, config)).toBe(expected);
  });
});

describe('tokenProblem (R2-R4)', () => {
  const reset = { usedAt: null, voidedAt: null, expiresAt: later(HOUR) };

  it.each([
    ['works just after issue', reset, later(1000), null],
    ['works a moment before expiry', reset, later(HOUR - 1), null],
    ['has expired at its expiry', reset, later(HOUR), 'expired'],
    ['has expired after it', reset, later(2 * HOUR), 'expired'],
    ['is used up after one use', { ...reset, usedAt: later(5) }, later(10), 'used'],
    ['is superseded by a newer one', { ...reset, voidedAt: later(5) }, later(10), 'superseded'],
    ['is unknown when absent', null, later(0), 'unknown'],
  ])('a reset token %s', (_label, row, now, problem) => {
    expect(tokenProblem(row, now)).toBe(problem);
  });
});

describe('which older links a new one voids (R4)', () => {
  const account = '6f1c0e52-3a4b-4c1d-9e2f-0a1b2c3d4e5f';

  it.each([
    ['invitation', 'the older invitations of its account only', 'activation', account, { purpose: 'activation', accountId: account }],
    ['invitation of someone with a login', 'the older ones of its account only', 'invitation', account, { purpose: 'invitation', accountId: account }],
    ['reset link asked by an admin of an account', 'every older reset link of the person', 'reset', account, { purpose: 'reset' }],
    ['reset link asked by the person', 'every older reset link of the person', 'reset', null, { purpose: 'reset' }],
    ['e-mail change link', 'every older e-mail change link of the person', 'email-change', null, { purpose: 'email-change' }],
    ['undo link', 'nothing (each address a login left keeps its way back)', 'email-undo', null, null],
    ['sign-in challenge', 'nothing (two sign-ins at once both finish)', 'sign-in', null, null],
    ['subuser sign-in challenge', 'nothing', 'sign-in', account, null],
  ] as const)('a new %s voids %s', (_link, _voided, purpose, accountId, scope) => {
    expect(supersededBy(purpose, accountId)).toEqual(scope);
  });
});

describe('who a password link still serves when it is used', () => {
  const [here, elsewhere] = ['6f1c0e52-3a4b-4c1d-9e2f-0a1b2c3d4e5f', '0b7d3c2a-1e4f-4a5b-8c6d-7e8f9a0b1c2d'];
  const holder = (status: LinkHolder['status'], active: string[], waiting: string[] = []): LinkHolder => ({
    status,
    activeAccountIds: active,
    waitingAccountIds: waiting,
  });

  it.each([
    ['asked for by the person, active somewhere', holder('active', [elsewhere]), null, true],
    ['asked for by the person, active nowhere', holder('active', []), null, false],
    ["sent by an account's admin, active there", holder('active', [here, elsewhere]), here, true],
    ["sent by an account's admin, inactive there though active elsewhere", holder('active', [elsewhere]), here, false],
    ["sent by an account's admin, waiting for their consent there", holder('active', [elsewhere], [here]), here, false],
  ] as const)('a reset link %s: %s', (_label, who, accountId, expected) => {
    expect(mayReset(who, accountId)).toBe(expected);
  });

  it.each([
    ['of an account keeping the pending person active', holder('pending', [here]), here, true],
    ['of an account waiting for their consent (active or not once they join)', holder('pending', [elsewhere], [here]), here, true],
    ['of an account that deactivated them, though another keeps them active', holder('pending', [elsewhere]), here, false],
    ['bound to no account (made before links were bound)', holder('pending', []), null, true],
    ['of someone who has a password already', holder('active', [here]), here, false],
  ] as const)('an activation link %s: %s', (_label, who, accountId, expected) => {
    expect(mayActivate(who, accountId)).toBe(expected);
  });
});
