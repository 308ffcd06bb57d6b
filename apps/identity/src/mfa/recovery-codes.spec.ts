import { scryptSync } from 'node:crypto';
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

  it('are stored as a slow hash that differs per code and per factor, and hides it', async () => {
    const [a, b] = newRecoveryCodes().map((code) => normalizeRecoveryCode(code)!);
    const factor = '6f1c0e52-3a4b-4c1d-9e2f-0a1b2c3d4e5f';
    const hash = await hashRecoveryCode(factor, a);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    await expect(hashRecoveryCode(factor, a)).resolves.toBe(hash);
    await expect(hashRecoveryCode(factor, b)).resolves.not.toBe(hash);
    await expect(hashRecoveryCode('7f1c0e52-3a4b-4c1d-9e2f-0a1b2c3d4e5f', a)).resolves.not.toBe(hash);
    expect(hash).not.toContain(a);
    // Pins the cost an offline search pays per guess (scrypt, N=2^13, r=8): a weaker hash fails here.
    expect(hash).toBe(scryptSync(a, `portico-recovery:${factor}`, 32, { N: 2 ** 13, r: 8, p: 1 }).toString('hex'));
  });
});
