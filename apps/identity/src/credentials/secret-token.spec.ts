import { hashSecretToken, newSecretToken } from './secret-token.js';

describe('secret tokens', () => {
  it('carry 256 random bits, base64url', () => {
    const token = newSecretToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newSecretToken()).not.toBe(token);
  });

  it('hash to a stable SHA-256 that does not contain the token', () => {
    const token = newSecretToken();
    expect(hashSecretToken(token)).toBe(hashSecretToken(token));
    expect(hashSecretToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSecretToken(token)).not.toContain(token);
  });
});
