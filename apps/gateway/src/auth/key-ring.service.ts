import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { Subjects, type JwksView } from '#libs/contracts/index.js';
import { CONFIG, LOGGER, RpcClient } from '#libs/platform/index.js';
import type { GatewayConfig } from '../gateway.config.js';

const REFRESH_AT_MOST_EVERY_MS = 5000;

/**
 * How much later than a token's issue a fetch must have begun for the set it read to hold the
 * token's key: the time identity's and the gateway's clocks may differ by.
 */
const ISSUE_MARGIN_MS = 2000;

/** A key the ring holds, or why it holds none ({@link KeyRing.find}). */
export type KeyLookup = { key: KeyObject; missing?: never } | { key?: never; missing: 'absent' | 'unsure' };

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
  /** When the fetch whose set is held began (0: none yet). */
  private heldFetchStartedAt = 0;
  /** A fetch waiting for the refresh rate to allow it (an unknown key asked meanwhile). */
  private deferred: NodeJS.Timeout | undefined;

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
    clearTimeout(this.deferred);
  }

  /**
   * The public key with this id (parsed once, not per request), refreshing once when it is not
   * known; or why there is none. `absent`: the set held lacks it and was fetched after the token
   * that names it was issued (`issuedAt`, its `iat` in seconds; identity records a key before it
   * signs with it), so the key does not exist, or no longer. `unsure`: the ring cannot vouch for
   * that yet: never loaded, its last load failed, or the set held was fetched before the token was
   * issued and the refresh rate holds off another (a key recorded at a rotation: "retry", not "sign
   * in again"); the ring then fetches again as soon as the rate allows. A token without `iat`, or
   * issued later than now, is none identity issued: `absent`.
   */
  async find(kid: string, issuedAt?: number): Promise<KeyLookup> {
    if (!this.keys.has(kid) && Date.now() - this.lastRefresh > REFRESH_AT_MOST_EVERY_MS) await this.refresh();
    const key = this.keys.get(kid);
    if (key) return { key };
    if (this.lastLoadFailed || this.heldFetchStartedAt === 0) return { missing: 'unsure' };
    const issuedAtMs = (issuedAt ?? 0) * 1000;
    if (issuedAt === undefined || issuedAtMs > Date.now() + ISSUE_MARGIN_MS || this.heldFetchStartedAt > issuedAtMs + ISSUE_MARGIN_MS) {
      return { missing: 'absent' };
    }
    this.refreshOnceAllowed();
    return { missing: 'unsure' };
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

  /** Fetches the set once the refresh rate allows it (one fetch, however many ask meanwhile). */
  private refreshOnceAllowed(): void {
    if (this.deferred) return;
    const wait = Math.max(0, this.lastRefresh + REFRESH_AT_MOST_EVERY_MS + 1 - Date.now());
    this.deferred = setTimeout(() => {
      this.deferred = undefined;
      void this.refresh();
    }, wait).unref();
  }

  private async load(): Promise<void> {
    const startedAt = Date.now();
    try {
      const jwks = await this.rpc.send(Subjects.KeysList, {});
      // Only a successful load counts against the refresh rate: until identity answers, every unknown kid asks again.
      this.lastRefresh = Date.now();
      this.keys = new Map(jwks.keys.map((jwk) => [jwk.kid, this.sameOrNew(jwk.kid, createPublicKey({ key: jwk as unknown as JsonWebKey, format: 'jwk' }))]));
      this.published = jwks;
      this.heldFetchStartedAt = startedAt;
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
