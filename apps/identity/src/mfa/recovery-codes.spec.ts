import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode, RECOVERY_CODE_COUNT } from './recovery-codes.js';

describe('recovery codes', () => {
  it('come ten at a time, all different, as xxxxx-xxxxx without look-alike characters', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of codes) expect(code).toMatch(/^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$/);
  });

  it('are read whatever the case, spaces or dashes, and refused when they cannot be one', () => {
    const [code] = newRecoveryCodes();
    const bare = code.replace('-', '');
    expect(normalizeRecoveryCode(code)).toBe(bare);
    expect(normalizeRecoveryCode(` ${code.toUpperCase()} `)).toBe(bare);
    expect(normalizeRecoveryCode(bare.match(/.{2}/g)!.join(' '))).toBe(bare);
    expect(normalizeRecoveryCode('abcde-fghi')).toBeNull();
    expect(normalizeRecoveryCode('abcde-fghi0')).toBeNull();
    expect(normalizeRecoveryCode('abcde-fghil')).toBeNull();
  });

  it('are stored as a hash that differs per code and per factor, and hides it', () => {
    const [a, b] = newRecoveryCodes().map((code) => normalizeRecoveryCode(code)!);
    const factor = '6f1c0e52-3a4b-4c1d-9e2f-0a1b2c3d4e5f';
    expect(hashRecoveryCode(factor, a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode(factor, a)).toBe(hashRecoveryCode(factor, a));
    expect(hashRecoveryCode(factor, a)).not.toBe(hashRecoveryCode(factor, b));
    expect(hashRecoveryCode(factor, a)).not.toBe(hashRecoveryCode('7f1c0e52-3a4b-4c1d-9e2f-0a1b2c3d4e5f', a));
    expect(hashRecoveryCode(factor, a)).not.toContain(a);
  });
});
