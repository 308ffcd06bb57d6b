import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { authenticationMethods, passedSecondStepIn } from '#libs/contracts/index.js';
import { signAccessToken } from './access-token.js';

describe('signAccessToken', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Math.floor(Date.now() / 1000);
  const content = {
    claims: {
      sub: '7d1f0f2e-8a51-4c53-9f8e-0f3b3b1c2d4e',
      pty: 'user' as const,
      sid: 'c0ffee00-0000-4000-8000-000000000001',
      typ: 'access' as const,
      amr: authenticationMethods(true),
    },
    issuer: 'portico',
    audience: 'portico-api',
    issuedAt: now,
    expiresAt: now + 900,
  };

  it('makes an ES256 JWT that a standard verifier accepts, with every claim', async () => {
    const token = signAccessToken(content, privateKey, 'kid-1');
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: 'kid-1', typ: 'at+jwt' });
    const { payload } = await jwtVerify(token, publicKey, { algorithms: ['ES256'], issuer: 'portico', audience: 'portico-api' });
    expect(payload).toMatchObject({ ...content.claims, iat: now, exp: now + 900, jti: expect.any(String) });
  });

  it('names how the session signed in (RFC 8176): a password, and a one-time code once a second step is passed', () => {
    expect(authenticationMethods(false)).toEqual(['pwd']);
    expect(authenticationMethods(true)).toEqual(['pwd', 'otp', 'mfa']);
    expect([true, false].map((passed) => passedSecondStepIn(authenticationMethods(passed)))).toEqual([true, false]);
    expect([undefined, 'mfa', ['otp']].map(passedSecondStepIn)).toEqual([false, false, false]);
  });

  it('is refused under another key', async () => {
    await expect(jwtVerify(signAccessToken(content, privateKey, 'kid-1'), other.publicKey)).rejects.toThrow();
  });
});
