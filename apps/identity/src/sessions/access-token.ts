import { randomUUID, sign, type KeyObject } from 'node:crypto';
import type { AccessTokenClaims } from '#libs/contracts/index.js';
import { ACCESS_TOKEN_ALGORITHM } from './signing-keys.service.js';

/** What an access token says, beside its signing key. */
export interface AccessTokenContent {
  claims: AccessTokenClaims;
  issuer: string;
  audience: string;
  issuedAt: number;
  expiresAt: number;
}

/**
 * Signs an access token (ES256, compact JWS) with node's crypto directly: the same token as a
 * JOSE library would make, at a quarter of the cost on the sign-in path.
 */
export function signAccessToken(content: AccessTokenContent, privateKey: KeyObject, kid: string): string {
  const header = { alg: ACCESS_TOKEN_ALGORITHM, kid, typ: 'at+jwt' };
  const payload = {
    ...content.claims,
    iss: content.issuer,
    aud: content.audience,
    iat: content.issuedAt,
    exp: content.expiresAt,
    jti: randomUUID(),
  };
  const input = `${base64url(header)}.${base64url(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
