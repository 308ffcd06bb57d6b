import { GateList, hearSecondStep, SUSPENSION_TIMES_KEPT_MS, type HeardSince } from './gate-list.js';

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

  describe('suspension changes heard out of order (two identity replicas)', () => {
    const at = (micros: string) => `2026-05-01T10:00:00.${micros}Z`;

    it('keeps the later change of a principal, whichever is heard first', () => {
      const gate = new GateList();
      expect(gate.suspend(principal, false, at('000200'), now)).toBe(true);
      // The deactivation that came before the reactivation, heard after it.
      expect(gate.suspend(principal, true, at('000100'), now)).toBe(false);
      expect(gate.isSuspended(principal)).toBe(false);
      // Within the same millisecond, the microseconds decide; the same time again is applied (one change told twice).
      expect(gate.suspend(principal, true, at('000201'), now)).toBe(true);
      expect(gate.suspend(principal, true, at('000201'), now)).toBe(true);
      expect(gate.isSuspended(principal)).toBe(true);
      // Another account of the same person is another principal.
      expect(gate.suspend({ ...principal, accountId: 'other' }, true, at('000001'), now)).toBe(true);
    });

    it('applies a change without a time (an identity of the release before) as it comes', () => {
      const gate = new GateList();
      gate.suspend(principal, false, at('000200'), now);
      expect(gate.suspend(principal, true, undefined, now)).toBe(true);
      expect(gate.isSuspended(principal)).toBe(true);
    });

    it('still ignores an older change heard after a full load, and the replay of what was heard during it keeps the later', () => {
      const gate = new GateList();
      gate.suspend(principal, true, at('000100'), now);
      gate.suspend(principal, false, at('000200'), now);
      gate.load(
        { revokedSessions: [], suspended: [principal], secondStepAccounts: [] },
        {
          sessions: [],
          secondStepLost: [],
          secondStepRegained: [],
          suspensions: [
            { ...principal, suspended: true, changedAt: at('000100') },
            { ...principal, suspended: false, changedAt: at('000200') },
          ],
          policies: [],
        },
      );
      expect(gate.isSuspended(principal)).toBe(false);
      expect(gate.suspend(principal, true, at('000150'), now)).toBe(false);
      expect(gate.isSuspended(principal)).toBe(false);
    });

    it(`forgets the time of a change heard ${SUSPENSION_TIMES_KEPT_MS / 60_000} minutes ago: a change heard later is applied as it comes`, () => {
      const gate = new GateList();
      gate.suspend(principal, false, at('000200'), now);
      gate.prune(now + SUSPENSION_TIMES_KEPT_MS - 1);
      expect(gate.suspend(principal, true, at('000100'), now)).toBe(false);
      gate.prune(now + SUSPENSION_TIMES_KEPT_MS);
      expect(gate.suspend(principal, true, at('000100'), now)).toBe(true);
    });
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
    gate.loseSecondStep([{ id: 'stale-lost', until: later(1000) }]);
    gate.setSecondStepRequired('stale-policy', true);
    gate.load(
      {
        revokedSessions: [{ id: 's1', until: later(1000) }],
        suspended: [principal],
        secondStepAccounts: ['acc', 'dropped'],
        secondStepLost: [{ id: 'lost1', until: later(1000) }],
      },
      {
        sessions: [{ id: 's2', until: later(1000) }],
        secondStepLost: [{ id: 'lost2', until: later(1000) }],
        secondStepRegained: [],
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
    expect(['lost1', 'lost2', 'stale-lost'].map((id) => gate.hasLostSecondStep(id, now))).toEqual([true, true, false]);
    expect(gate.isSuspended(principal)).toBe(false);
    expect(['acc', 'dropped', 'heard', 'stale-policy'].map((account) => gate.requiresSecondStep(account))).toEqual([true, false, true, false]);
  });

  it('keeps a session that lost its second step until its tokens would have expired, and its session open', () => {
    const gate = new GateList();
    gate.loseSecondStep([{ id: 's1', until: later(1000) }]);
    expect(gate.hasLostSecondStep('s1', now)).toBe(true);
    expect(gate.hasLostSecondStep('s2', now)).toBe(false);
    expect(gate.isRevoked('s1', now)).toBe(false);
    gate.prune(now + 1000);
    expect(gate.hasLostSecondStep('s1', now)).toBe(false);
    expect(gate.size().secondStepLost).toBe(0);
  });

  it('counts a session that passed a second step again at once, and lists it again when it loses it again', () => {
    const gate = new GateList();
    gate.loseSecondStep([{ id: 's1', until: later(1000) }]);
    gate.regainSecondStep(['s1', 'never-lost']);
    expect(gate.hasLostSecondStep('s1', now)).toBe(false);
    gate.loseSecondStep([{ id: 's1', until: later(1000) }]);
    expect(gate.hasLostSecondStep('s1', now)).toBe(true);
  });

  it.each<[string, Array<{ lost?: string; regained?: string }>, boolean]>([
    ['lost, then regained', [{ lost: 's1' }, { regained: 's1' }], false],
    ['regained, then lost again', [{ lost: 's1' }, { regained: 's1' }, { lost: 's1' }], true],
    ['regained only (lost before the load began: the loaded state lists it)', [{ regained: 's1' }], false],
  ])('replays what was heard of a second step during a load as the broadcasts said it, the later word winning: %s', (_label, heardInOrder, lostAfter) => {
    const heard: HeardSince = { sessions: [], secondStepLost: [], secondStepRegained: [], suspensions: [], policies: [] };
    for (const word of heardInOrder) hearSecondStep(heard, word.lost ? [{ id: word.lost, until: later(1000) }] : [], word.regained ? [word.regained] : []);
    const gate = new GateList();
    gate.load({ revokedSessions: [], suspended: [], secondStepAccounts: [], secondStepLost: [{ id: 's1', until: later(1000) }] }, heard);
    expect(gate.hasLostSecondStep('s1', now)).toBe(lostAfter);
  });

  it('ignores a malformed time', () => {
    const gate = new GateList();
    gate.revoke([{ id: 's1', until: 'yesterday-ish' }]);
    expect(gate.isRevoked('s1', now)).toBe(false);
  });
});
