import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { Logger } from 'pino';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import type { JwksView, PublicJwk } from '#libs/contracts/index.js';
import { CONFIG, LOGGER } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { readSigningKeyFile } from './signing-key-file.js';
import { SigningKeyEntity } from './signing-key.entity.js';

/** The algorithm of every access token. Pinned: verifiers accept nothing else. */
export const ACCESS_TOKEN_ALGORITHM = 'ES256';

/** The key that signs now. */
export interface ActiveSigningKey {
  kid: string;
  privateKey: KeyObject;
}

/**
 * The access-token signing key set. A key from `JWT_PRIVATE_KEY_FILE` when given; otherwise the
 * newest key in the database, generated on first start (one replica generates, the others read).
 * The keys verifiers must accept are read from the database each time they are asked for (gateways
 * ask every minute, and for a key they do not know): a key marked retired there is no longer
 * published, by any replica, without a restart.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit {
  private active: ActiveSigningKey;
  /** The key set as read last (see {@link jwks}). */
  private lastPublished: JwksView | undefined;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: IdentityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.JWT_PRIVATE_KEY_FILE !== '-') await this.useKeyFile(this.config.JWT_PRIVATE_KEY_FILE);
    await this.loadFromDatabase();
  }

  /** The key to sign with. */
  signingKey(): ActiveSigningKey {
    return this.active;
  }

  /**
   * The public keys verifiers must accept: every key not retired, the signing one first. While the
   * database cannot be read, the set last read (a gateway that starts then can still check tokens).
   */
  async jwks(): Promise<JwksView> {
    let keys: SigningKeyEntity[];
    try {
      keys = await unretiredKeys(this.dataSource.manager);
    } catch (error) {
      if (!this.lastPublished) throw error;
      this.logger.warn({ err: error }, 'Could not read the signing keys; publishing the set read last');
      return this.lastPublished;
    }
    const published = keys.map((key) => key.publicJwk).sort((a, b) => Number(b.kid === this.active.kid) - Number(a.kid === this.active.kid));
    if (published[0]?.kid !== this.active.kid) {
      this.logger.error({ kid: this.active.kid }, 'The key this identity signs with is retired: its tokens are refused; start it with a new key');
    }
    this.lastPublished = { keys: published };
    return this.lastPublished;
  }

  private async useKeyFile(path: string): Promise<void> {
    const privateKey = readSigningKeyFile(path);
    const jwk = await toPublicJwk(privateKey);
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(SigningKeyEntity)
      .values({ kid: jwk.kid, privatePem: '(kept in a file)', publicJwk: jwk })
      .orIgnore()
      .execute();
    this.active = { kid: jwk.kid, privateKey };
  }

  private async loadFromDatabase(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))`);
      const keys = await unretiredKeys(manager);
      if (keys.length === 0 && !this.active) keys.push(await manager.save(SigningKeyEntity, await generateSigningKey()));
      if (!this.active) this.active = { kid: keys[0].kid, privateKey: createPrivateKey(keys[0].privatePem) };
    });
  }
}

/** The keys not retired, newest first. */
function unretiredKeys(manager: EntityManager): Promise<SigningKeyEntity[]> {
  return manager.find(SigningKeyEntity, { where: { retiredAt: IsNull() }, order: { createdAt: 'DESC' } });
}

async function toPublicJwk(privateKey: KeyObject): Promise<PublicJwk> {
  const exported = createPublicKey(privateKey).export({ format: 'jwk' });
  const kid = await calculateJwkThumbprint({ kty: exported.kty!, crv: exported.crv, x: exported.x, y: exported.y });
  return { kid, kty: exported.kty!, crv: exported.crv, x: exported.x, y: exported.y, alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' };
}

async function generateSigningKey(): Promise<Pick<SigningKeyEntity, 'kid' | 'privatePem' | 'publicJwk'>> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = await toPublicJwk(privateKey);
  return { kid: publicJwk.kid, privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicJwk };
}
