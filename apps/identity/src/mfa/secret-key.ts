import { readFileSync } from 'node:fs';
import { ConfigError } from '#libs/platform/index.js';

/** The key of `MFA_SECRET_KEY_FILE` (null for `-`), or a ConfigError naming the variable (`variable`) and the problem. */
export function readSecretKeyFile(file: string, variable = 'MFA_SECRET_KEY_FILE'): Buffer | null {
  if (file === '-') return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${variable}: cannot read ${file}: ${(error as Error).message}`]);
  }
  return parseSecretKey(text, variable);
}

/**
 * The keys of `MFA_PREVIOUS_SECRET_KEY_FILES`: files separated by commas (`-` for none), each read
 * as {@link readSecretKeyFile} reads one.
 */
export function readPreviousSecretKeyFiles(files: string): Buffer[] {
  if (files.trim() === '-') return [];
  return files
    .split(',')
    .map((file) => file.trim())
    .filter((file) => file.length > 0)
    .map((file) => readSecretKeyFile(file, 'MFA_PREVIOUS_SECRET_KEY_FILES')!);
}

/** The 256-bit key of a key file: 44 characters of base64 or 64 hexadecimal digits (surrounding white space ignored). */
export function parseSecretKey(text: string, variable = 'MFA_SECRET_KEY_FILE'): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : /^[A-Za-z0-9+/]{43}=$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : null;
  if (!key || key.length !== 32)
    throw new ConfigError([`${variable} must hold 256-bit keys: 44 characters of base64 or 64 hexadecimal digits (openssl rand -base64 32)`]);
  return key;
}
