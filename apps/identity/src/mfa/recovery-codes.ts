import { randomInt, scrypt } from 'node:crypto';

/**
 * Recovery codes: single-use codes that stand in for the authenticator when it is lost. Each is
 * 10 characters of an alphabet without look-alikes (no 0/O, 1/I/L), shown as `xxxxx-xxxxx`:
 * about 49 bits, plenty against guessing online behind the sign-in throttle. Offline, from a
 * database dump, a fast hash of 49 bits falls in hours on a GPU: they are stored as scrypt
 * (N=2^13, r=8, p=1: 8 MiB, within Node's default 32 MiB `maxmem`, and ~40 ms a hash on one
 * core) salted with their factor's id, which puts a search out of reach and costs a sign-in one
 * hash (one code is looked up by its hash). A set of ten is hashed before the transaction that
 * stores it, so that no lock waits on them.
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

/** The hash a recovery code of the factor `factorId` is stored as: scrypt of its normalized spelling, salted with the factor's id (hex). */
export function hashRecoveryCode(factorId: string, normalized: string): Promise<string> {
  return new Promise((resolve, reject) =>
    scrypt(normalized, `portico-recovery:${factorId}`, 32, { N: 2 ** 13, r: 8, p: 1 }, (error, hash) =>
      error ? reject(error) : resolve(hash.toString('hex')),
    ),
  );
}

/** The hashes of a new set of `codes` for the factor `factorId` ({@link hashRecoveryCode}), made side by side. */
export function hashRecoveryCodes(factorId: string, codes: string[]): Promise<string[]> {
  return Promise.all(codes.map((code) => hashRecoveryCode(factorId, normalizeRecoveryCode(code)!)));
}
