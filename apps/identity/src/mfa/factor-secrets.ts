import { Inject, Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { CONFIG } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { readSecretKeyFile } from './secret-key.js';

/** The first byte of a stored secret: how the rest is to be read. */
const PLAIN = 0x00;
const SEALED = 0x01;
const KEY_ID_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * TOTP secrets as the database keeps them. With `MFA_SECRET_KEY_FILE` (a 256-bit key, base64 or
 * hex), each secret is sealed with AES-256-GCM, so that whoever reads the database (a dump, a
 * backup, a replica) cannot compute anyone's codes; without it (`-`), secrets are kept as they
 * are, as the signing key is by default. A stored secret says which it is (its first byte) and,
 * sealed, which key sealed it (the first bytes of the key's SHA-256): turning the key on later
 * keeps the secrets stored before readable, and a secret sealed under another key is refused
 * with a clear 503, never read as garbage.
 */
@Injectable()
export class FactorSecrets {
  private key: Buffer | null;

  constructor(@Inject(CONFIG) config: Pick<IdentityConfig, 'MFA_SECRET_KEY_FILE'>) {
    // Read at start; checked already when the configuration loaded (loadIdentityConfig): a bad file stops the service there, naming it.
    this.key = readSecretKeyFile(config.MFA_SECRET_KEY_FILE);
  }

  /** Uses `key` (a test's, or null for none) instead of the configured file. */
  useKey(key: Buffer | null): void {
    this.key = key;
  }

  /** `secret` as it is to be stored. */
  seal(secret: Buffer): Buffer {
    if (!this.key) return Buffer.concat([Buffer.from([PLAIN]), secret]);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(secret), cipher.final()]);
    return Buffer.concat([Buffer.from([SEALED]), keyId(this.key), iv, cipher.getAuthTag(), sealed]);
  }

  /** The secret a stored value holds; 503 when it was sealed under a key this replica does not have, or was altered. */
  open(stored: Buffer): Buffer {
    if (stored[0] === PLAIN) return stored.subarray(1);
    if (stored[0] !== SEALED) throw unreadable('it is in no known format');
    if (!this.key) throw unreadable('it was sealed, and MFA_SECRET_KEY_FILE is not set here');
    const id = stored.subarray(1, 1 + KEY_ID_BYTES);
    if (!id.equals(keyId(this.key))) throw unreadable('it was sealed under another MFA_SECRET_KEY_FILE');
    const iv = stored.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + IV_BYTES);
    const tag = stored.subarray(1 + KEY_ID_BYTES + IV_BYTES, 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(stored.subarray(1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw unreadable('it does not open under MFA_SECRET_KEY_FILE (altered?)');
    }
  }
}

function keyId(key: Buffer): Buffer {
  return createHash('sha256').update(key).digest().subarray(0, KEY_ID_BYTES);
}

function unreadable(why: string): DomainError {
  return new DomainError(ErrorCode.ServiceUnavailable, `Two-step sign-in cannot be checked on this server: ${why}`);
}
