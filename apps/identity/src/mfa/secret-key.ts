import { readFileSync } from 'node:fs';
import { ConfigError } from '#libs/platform/index.js';

/** The key of `MFA_SECRET_KEY_FILE` (null for `-`), or a ConfigError naming the variable and the problem. */
export function readSecretKeyFile(file: string): Buffer | null {
  if (file === '-') return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`MFA_SECRET_KEY_FILE: cannot read ${file}: ${(error as Error).message}`]);
  }
  return parseSecretKey(text);
}

/** The 256-bit key of a key file: 44 characters of base64 or 64 hexadecimal digits (surrounding white space ignored). */
export function parseSecretKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : /^[A-Za-z0-9+/]{43}=$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : null;
  if (!key || key.length !== 32)
    throw new ConfigError(['MFA_SECRET_KEY_FILE must hold a 256-bit key: 44 characters of base64 or 64 hexadecimal digits (openssl rand -base64 32)']);
  return key;
}
