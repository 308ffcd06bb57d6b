import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Time-based one-time passwords (RFC 6238) as every authenticator app reads them: HMAC-SHA1,
 * 6 digits, 30-second steps, a 160-bit secret shown in base32 (RFC 4648, no padding).
 */

/** Seconds one code lasts. */
export const TOTP_STEP_SECONDS = 30;
/** Digits of a code. */
export const TOTP_DIGITS = 6;
/** Steps either side of now still accepted: a phone clock a little off, a code typed as it turned. */
export const TOTP_DRIFT_STEPS = 1;
/** Bytes of a new secret (160 bits, RFC 4226's recommended length). */
export const TOTP_SECRET_BYTES = 20;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A new random secret. */
export function newTotpSecret(): Buffer {
  return randomBytes(TOTP_SECRET_BYTES);
}

/** `bytes` in base32 without padding, as authenticator apps take a secret typed by hand. */
export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let text = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) text += BASE32[(value << (5 - bits)) & 31];
  return text;
}

/** The bytes of a base32 text (case and spaces ignored, padding allowed), or null if it is not base32. */
export function base32Decode(text: string): Buffer | null {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) return null;
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The RFC 4226 one-time password of `secret` at `counter`, `digits` long (zero-padded). */
export function hotp(secret: Buffer, counter: number, digits = TOTP_DIGITS): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', secret).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return (binary % 10 ** digits).toString().padStart(digits, '0');
}

/** The time step `at` falls in. */
export function totpStep(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_STEP_SECONDS);
}

/** The code of `secret` at `at`. */
export function totpCode(secret: Buffer, at: Date): string {
  return hotp(secret, totpStep(at));
}

/**
 * The step whose code `typed` is (spaces ignored), among the steps within {@link TOTP_DRIFT_STEPS} of `at` and after
 * `lastUsedStep` (a code, once used, never works again, nor does an older one), or null. Every
 * candidate is compared in constant time.
 */
export function matchTotp(secret: Buffer, typed: string, at: Date, lastUsedStep: number | null): number | null {
  if (!looksLikeTotp(typed)) return null;
  const code = typed.replace(/\s/g, '');
  const now = totpStep(at);
  let matched: number | null = null;
  for (let step = now - TOTP_DRIFT_STEPS; step <= now + TOTP_DRIFT_STEPS; step++) {
    const same = timingSafeEqual(Buffer.from(hotp(secret, step)), Buffer.from(code));
    if (same && (lastUsedStep === null || step > lastUsedStep) && matched === null) matched = step;
  }
  return matched;
}

/** Whether `typed` has the shape of an authenticator's code: 6 digits (spaces ignored: apps show `123 456`). */
export function looksLikeTotp(typed: string): boolean {
  return /^\d{6}$/.test(typed.replace(/\s/g, ''));
}

/**
 * The `otpauth://` URI an authenticator app reads from a QR code: the issuer (the product's name,
 * shown in the app) and the account label (the login), with the secret.
 */
export function otpauthUri(issuer: string, label: string, secret: Buffer): string {
  const parameters = new URLSearchParams({
    secret: base32Encode(secret),
    issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_STEP_SECONDS),
  });
  return `otpauth://totp/${encodeURIComponent(issuer)}:${encodeURIComponent(label)}?${parameters.toString().replace(/\+/g, '%20')}`;
}
