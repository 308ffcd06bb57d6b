import { GateList } from './gate-list.js';

const now = Date.parse('2026-05-01T10:00:00Z');
const later = (ms: number) => new Date(now + ms).toISOString();
const principal = { accountId: 'acc', principalType: 'user' as const, principalId: 'u1' };

describe('GateList', () => {
  it('refuses a revoked session until its tokens would have expired', () => {
    const gate = new GateList();
    gate.revoke([{ id: 's1', until: later(900_000) }]);
    expect(gate.isRevoked('s1', now)).toBe(true);
    expect(gate.isRevoked('s2', now)).toBe(false);
    expect(gate.isRevoked('s1', now + 900_000)).toBe(false);
    gate.prune(now + 900_000);
    expect(gate.size().revoked).toBe(0);
  });

  it('suspends and readmits a principal in one account only', () => {
    const gate = new GateList();
    gate.suspend(principal, true);
    expect(gate.isSuspended(principal)).toBe(true);
    expect(gate.isSuspended({ ...principal, accountId: 'other' })).toBe(false);
    gate.suspend(principal, false);
    expect(gate.isSuspended(principal)).toBe(false);
  });

  it('requires a second step in one account only, until told otherwise', () => {
    const gate = new GateList();
    gate.setSecondStepRequired('acc', true);
    expect(gate.requiresSecondStep('acc')).toBe(true);
    expect(gate.requiresSecondStep('other')).toBe(false);
    gate.setSecondStepRequired('acc', false);
    expect(gate.requiresSecondStep('acc')).toBe(false);
  });

  it('loads a full state and replays what was heard while loading', () => {
    const gate = new GateList();
    gate.revoke([{ id: 'stale', until: later(1000) }]);
    gate.setSecondStepRequired('stale-policy', true);
    gate.load(
      { revokedSessions: [{ id: 's1', until: later(1000) }], suspended: [principal], secondStepAccounts: ['acc', 'dropped'] },
      {
        sessions: [{ id: 's2', until: later(1000) }],
        suspensions: [{ ...principal, suspended: false }],
        policies: [
          { accountId: 'dropped', requireSecondStep: false },
          { accountId: 'heard', requireSecondStep: true },
        ],
      },
    );
    expect(gate.isRevoked('s1', now)).toBe(true);
    expect(gate.isRevoked('s2', now)).toBe(true);
    expect(gate.isRevoked('stale', now)).toBe(false);
    expect(gate.isSuspended(principal)).toBe(false);
    expect(['acc', 'dropped', 'heard', 'stale-policy'].map((account) => gate.requiresSecondStep(account))).toEqual([true, false, true, false]);
  });

  it('ignores a malformed time', () => {
    const gate = new GateList();
    gate.revoke([{ id: 's1', until: 'yesterday-ish' }]);
    expect(gate.isRevoked('s1', now)).toBe(false);
  });
});
