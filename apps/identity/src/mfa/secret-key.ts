import { createHash } from 'node:crypto';
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
  const names = files.split(',').map((file) => file.trim());
  if (names.some((file) => file === '' || file === '-'))
    throw new ConfigError(['MFA_PREVIOUS_SECRET_KEY_FILES: list files separated by commas, without empty entries or "-" (alone, "-" means none)']);
  return names.map((file) => readSecretKeyFile(file, 'MFA_PREVIOUS_SECRET_KEY_FILES')!);
}

/** How many bytes a {@link secretKeyId} has. */
export const SECRET_KEY_ID_BYTES = 4;

/** The id a sealed secret names its key by: the first {@link SECRET_KEY_ID_BYTES} bytes of the key's SHA-256. */
export function secretKeyId(key: Buffer): Buffer {
  return createHash('sha256').update(key).digest().subarray(0, SECRET_KEY_ID_BYTES);
}

/**
 * Refuses (ConfigError) two different keys with the same {@link secretKeyId} (one chance in 2^32 a
 * pair): a secret would name both, and open under neither but the one looked up.
 */
export function assertDistinctKeyIds(keys: Buffer[]): void {
  const seen = new Map<string, Buffer>();
  for (const key of keys) {
    const id = secretKeyId(key).toString('hex');
    const other = seen.get(id);
    if (other && !other.equals(key))
      throw new ConfigError(['MFA_PREVIOUS_SECRET_KEY_FILES: two different keys share a key id (one chance in four billion): make another new key']);
    seen.set(id, key);
  }
}

/** The 256-bit key of a key file: 44 characters of base64 or 64 hexadecimal digits (surrounding white space ignored). */
export function parseSecretKey(text: string, variable = 'MFA_SECRET_KEY_FILE'): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : /^[A-Za-z0-9+/]{43}=$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : null;
  if (!key || key.length !== 32)
    throw new ConfigError([`${variable} must hold 256-bit keys: 44 characters of base64 or 64 hexadecimal digits (openssl rand -base64 32)`]);
  return key;
}
