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

  it('are stored as a hash that differs per code and hides it', () => {
    const [a, b] = newRecoveryCodes().map((code) => normalizeRecoveryCode(code)!);
    expect(hashRecoveryCode(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode(a)).toBe(hashRecoveryCode(a));
    expect(hashRecoveryCode(a)).not.toBe(hashRecoveryCode(b));
    expect(hashRecoveryCode(a)).not.toContain(a);
  });
});
