import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { CONFIG, LOGGER } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { readPreviousSecretKeyFiles, readSecretKeyFile, SECRET_KEY_ID_BYTES, secretKeyId } from './secret-key.js';

/** The first byte of a stored secret: how the rest is to be read. */
const PLAIN = 0x00;
const SEALED = 0x01;
const KEY_ID_BYTES = SECRET_KEY_ID_BYTES;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * TOTP secrets as the database keeps them. With `MFA_SECRET_KEY_FILE` (a 256-bit key, base64 or
 * hex), each secret is sealed with AES-256-GCM, so that whoever reads the database (a dump, a
 * backup, a replica) cannot compute anyone's codes; without it (`-`), secrets are kept as they
 * are, as the signing key is by default. A stored secret says which it is (its first byte) and,
 * sealed, which key sealed it (the first bytes of the key's SHA-256): turning the key on later
 * keeps the secrets stored before readable (they stay as they are: resealing them at use would
 * make them unreadable to replicas still without the key during a rollout, or after a rollback),
 * and a secret sealed under another key is refused with a 503 (the why in the log), never read
 * as garbage. Keys of `MFA_PREVIOUS_SECRET_KEY_FILES` open what they sealed and seal nothing: a
 * key is rotated by making the new one current, the old one previous, and resealing
 * ({@link reseal}, the command `reseal-second-step-secrets`).
 */
@Injectable()
export class FactorSecrets implements OnApplicationBootstrap {
  private key: Buffer | null = null;
  /** The current key's id, as sealed values name it. */
  private keyId: Buffer | null = null;
  /** Every key that opens secrets here (the current one and the previous ones), by key id (hex). */
  private readonly keys = new Map<string, Buffer>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(CONFIG) config: Pick<IdentityConfig, 'MFA_SECRET_KEY_FILE' | 'MFA_PREVIOUS_SECRET_KEY_FILES'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // Read at start; checked already when the configuration loaded (loadIdentityConfig): a bad file stops the service there, naming it.
    this.useKey(readSecretKeyFile(config.MFA_SECRET_KEY_FILE), readPreviousSecretKeyFiles(config.MFA_PREVIOUS_SECRET_KEY_FILES));
  }

  /**
   * Says at start, at error level, when stored secrets were sealed under a key this replica lacks
   * (another key, or none set here): their owners' second step would answer 503 until it is fixed;
   * and, at info level, how many are sealed under a previous key (to reseal before dropping it).
   * Without a key, it warns that secrets set up here are stored unsealed.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.key)
      this.logger.warn(
        'MFA_SECRET_KEY_FILE is "-": authenticator secrets are stored unsealed, so whoever reads the database (a dump, a backup, a replica) can compute second-step codes; set a key (docs/deploy.md, section 2.3)',
      );
    let rows: Array<{ key_id: Buffer; count: number }>;
    try {
      // substring, not get_byte: an empty value (a hand edit) must not fail the check.
      rows = await this.dataSource.query(
        `SELECT substring(secret FROM 2 FOR ${KEY_ID_BYTES}) AS key_id, count(*)::int AS count
           FROM totp_factors WHERE substring(secret FROM 1 FOR 1) = $1 GROUP BY 1`,
        [Buffer.from([SEALED])],
      );
    } catch (error) {
      // Only a warning to give: it must never keep identity from starting.
      this.logger.warn({ err: error }, 'Could not check which key sealed the stored authenticator secrets');
      return;
    }
    const count = (selected: typeof rows) => selected.reduce((sum, row) => sum + row.count, 0);
    const unreadableHere = rows.filter((row) => !this.keys.has(row.key_id.toString('hex')));
    if (unreadableHere.length > 0)
      this.logger.error(
        { secrets: count(unreadableHere), keyConfigured: this.key !== null },
        'Authenticator secrets are sealed under a key this replica does not have (MFA_SECRET_KEY_FILE, MFA_PREVIOUS_SECRET_KEY_FILES): their second step answers 503',
      );
    const underPrevious = rows.filter((row) => this.keyId && !row.key_id.equals(this.keyId) && this.keys.has(row.key_id.toString('hex')));
    if (underPrevious.length > 0)
      this.logger.info(
        { secrets: count(underPrevious) },
        'Authenticator secrets are sealed under a previous key: reseal them (node dist/tools/reseal-second-step-secrets.js) before dropping it',
      );
  }

  /** Uses `key` (a test's, or null for none) and `previous` keys instead of the configured files. */
  useKey(key: Buffer | null, previous: Buffer[] = []): void {
    this.key = key;
    this.keyId = key && secretKeyId(key);
    this.keys.clear();
    // The current key last: it wins any id it shares (the configuration refuses two keys with one id).
    for (const each of key ? [...previous, key] : previous) this.keys.set(secretKeyId(each).toString('hex'), each);
  }

  /**
   * `stored` sealed under the current key, or null when it needs no resealing (sealed under it
   * already, or no key is set) or cannot be read here (see {@link canOpen}).
   */
  reseal(stored: Buffer): Buffer | null {
    if (!this.key || !this.canOpen(stored) || this.isSealedUnderCurrentKey(stored)) return null;
    return this.seal(this.open(stored));
  }

  /** Whether `stored` is sealed under the current key (what {@link reseal} leaves alone). */
  isSealedUnderCurrentKey(stored: Buffer): boolean {
    return this.keyId !== null && stored[0] === SEALED && stored.subarray(1, 1 + KEY_ID_BYTES).equals(this.keyId);
  }

  /** `secret` as it is to be stored. */
  seal(secret: Buffer): Buffer {
    if (!this.key) return Buffer.concat([Buffer.from([PLAIN]), secret]);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    const sealed = Buffer.concat([cipher.update(secret), cipher.final()]);
    return Buffer.concat([Buffer.from([SEALED]), this.keyId!, iv, cipher.getAuthTag(), sealed]);
  }

  /** Whether {@link open} reads `stored` here (its format known, and sealed under a key of this replica). */
  canOpen(stored: Buffer): boolean {
    return this.problemOf(stored) === null;
  }

  /**
   * The secret a stored value holds; 503 when it was sealed under a key this replica does not have,
   * altered, or in no known format (the why goes to the log at error level, not to the caller).
   */
  open(stored: Buffer): Buffer {
    const problem = this.problemOf(stored);
    if (problem === null) {
      if (stored[0] === PLAIN) return stored.subarray(1);
      const at = 1 + KEY_ID_BYTES;
      const key = this.keys.get(stored.subarray(1, at).toString('hex'))!;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, stored.subarray(at, at + IV_BYTES), { authTagLength: TAG_BYTES });
        decipher.setAuthTag(stored.subarray(at + IV_BYTES, at + IV_BYTES + TAG_BYTES));
        return Buffer.concat([decipher.update(stored.subarray(at + IV_BYTES + TAG_BYTES)), decipher.final()]);
      } catch {
        throw this.unreadable('it does not open under the key that sealed it (altered?)');
      }
    }
    throw this.unreadable(problem);
  }

  /** Why `stored` cannot be opened here, before trying (null: it can, unless altered). */
  private problemOf(stored: Buffer): string | null {
    if (stored[0] === PLAIN) return stored.length > 1 ? null : 'it is empty';
    if (stored[0] !== SEALED || stored.length <= 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES) return 'it is in no known format';
    if (this.keys.size === 0) return 'it was sealed, and MFA_SECRET_KEY_FILE is not set here';
    if (!this.keys.has(stored.subarray(1, 1 + KEY_ID_BYTES).toString('hex')))
      return 'it was sealed under a key neither MFA_SECRET_KEY_FILE nor MFA_PREVIOUS_SECRET_KEY_FILES holds here';
    return null;
  }

  private unreadable(why: string): DomainError {
    this.logger.error({ why }, 'An authenticator secret cannot be read on this replica (MFA_SECRET_KEY_FILE, MFA_PREVIOUS_SECRET_KEY_FILES)');
    return new DomainError(ErrorCode.ServiceUnavailable, 'Two-step sign-in cannot be checked right now; try again later');
  }
}
