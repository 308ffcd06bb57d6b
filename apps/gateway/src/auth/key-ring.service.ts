import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { Subjects, type JwksView } from '#libs/contracts/index.js';
import { CONFIG, LOGGER, RpcClient } from '#libs/platform/index.js';
import type { GatewayConfig } from '../gateway.config.js';

const REFRESH_AT_MOST_EVERY_MS = 5000;

/**
 * The public keys that verify access tokens, fetched from identity. An unknown `kid` triggers a
 * refresh (at most every few seconds), so a rotated key is picked up without a restart; and the
 * set is fetched again every `JWT_KEYS_REFRESH_MS`, so a key retired in identity's database is
 * refused within that time, also for tokens verified before. A failed fetch keeps the set known.
 */
@Injectable()
export class KeyRing implements OnApplicationBootstrap, OnModuleDestroy {
  private keys = new Map<string, KeyObject>();
  private published: JwksView = { keys: [] };
  private lastRefresh = 0;
  private lastLoadFailed = false;
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rpc: RpcClient,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) private readonly config: Pick<GatewayConfig, 'JWT_KEYS_REFRESH_MS'>,
  ) {}

  onApplicationBootstrap(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.config.JWT_KEYS_REFRESH_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The public key with this id (parsed once, not per request), refreshing once when it is not known. */
  async find(kid: string): Promise<KeyObject | undefined> {
    if (!this.keys.has(kid) && Date.now() - this.lastRefresh > REFRESH_AT_MOST_EVERY_MS) await this.refresh();
    return this.keys.get(kid);
  }

  /**
   * Whether the ring can vouch that a key it lacks does not exist: loaded at least once, and its
   * last load did not fail (after a rotation, a key missing because identity did not answer is
   * "retry", not "sign in again").
   */
  get current(): boolean {
    return this.lastRefresh > 0 && !this.lastLoadFailed;
  }

  /** The key with this id as known now (no refresh). */
  peek(kid: string): KeyObject | undefined {
    return this.keys.get(kid);
  }

  /** The JWKS document to publish. */
  async jwks(): Promise<JwksView> {
    if (this.published.keys.length === 0) await this.refresh();
    return this.published;
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    try {
      const jwks = await this.rpc.send(Subjects.KeysList, {});
      // Only a successful load counts against the refresh rate: until identity answers, every unknown kid asks again.
      this.lastRefresh = Date.now();
      this.keys = new Map(jwks.keys.map((jwk) => [jwk.kid, this.sameOrNew(jwk.kid, createPublicKey({ key: jwk as unknown as JsonWebKey, format: 'jwk' }))]));
      this.published = jwks;
      this.lastLoadFailed = false;
    } catch (error) {
      this.lastLoadFailed = true;
      this.logger.warn({ err: (error as Error).message }, 'Could not load the token verification keys yet');
    }
  }

  /**
   * The key already held under `kid` when `loaded` is the same key, else `loaded`: a key that stays
   * keeps its object, so a remembered token's key is recognised by identity on every request
   * (`VerifiedTokens`) instead of being compared again after each refresh.
   */
  private sameOrNew(kid: string, loaded: KeyObject): KeyObject {
    const held = this.keys.get(kid);
    return held?.equals(loaded) ? held : loaded;
  }
}
