import { createHash, randomInt } from 'node:crypto';

/**
 * Recovery codes: single-use codes that stand in for the authenticator when it is lost. Each is
 * 10 characters of an alphabet without look-alikes (no 0/O, 1/I/L), shown as `xxxxx-xxxxx`:
 * about 49 bits, plenty against guessing online behind the sign-in throttle. They are stored as a
 * SHA-256 hash salted with their factor's id, so that whoever reads the database must search the
 * 2^49 codes once per login, not once for all logins (the TOTP secret beside them is worth more).
 */

/** Codes in a fresh set. */
export const RECOVERY_CODE_COUNT = 10;

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const CODE_LENGTH = 10;

/** A new set of {@link RECOVERY_CODE_COUNT} codes, as shown to their owner (once). */
export function newRecoveryCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < RECOVERY_CODE_COUNT) codes.add(newRecoveryCode());
  return [...codes];
}

function newRecoveryCode(): string {
  let code = '';
  for (let index = 0; index < CODE_LENGTH; index++) code += ALPHABET[randomInt(ALPHABET.length)];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/**
 * A code as typed, in the one spelling its hash is taken of: case, spaces and dashes ignored. Null
 * when it cannot be a recovery code (wrong length or a character outside the alphabet).
 */
export function normalizeRecoveryCode(typed: string): string | null {
  const clean = typed.replace(/[\s-]/g, '').toLowerCase();
  if (clean.length !== CODE_LENGTH || [...clean].some((char) => !ALPHABET.includes(char))) return null;
  return clean;
}

/** The hash a recovery code of the factor `factorId` is stored as (SHA-256, hex, of the factor's id and the code's normalized spelling). */
export function hashRecoveryCode(factorId: string, normalized: string): string {
  return createHash('sha256').update(`recovery:${factorId}:${normalized}`).digest('hex');
}
