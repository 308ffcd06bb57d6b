import { randomBytes } from 'node:crypto';
import { linkTokenHash } from '#libs/contracts/index.js';

/** A fresh random token: 256 bits, base64url. */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The hash a token is stored as (SHA-256, hex): the name `identity.links.voided` gives it, too. A
 * token's own entropy makes a slow hash unnecessary.
 */
export function hashSecretToken(token: string): string {
  return linkTokenHash(token);
}
