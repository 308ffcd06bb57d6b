import { createHash, randomBytes } from 'node:crypto';

/** A fresh random token: 256 bits, base64url. */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The hash a token is stored as (SHA-256, hex). A token's own entropy makes a slow hash unnecessary. */
export function hashSecretToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
