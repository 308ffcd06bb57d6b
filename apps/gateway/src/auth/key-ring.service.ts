import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { Subjects, type JwksView } from '#libs/contracts/index.js';
import { CONFIG, LOGGER, RpcClient } from '#libs/platform/index.js';
import type { GatewayConfig } from '../gateway.config.js';

const REFRESH_AT_MOST_EVERY_MS = 5000;

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
  /** Fetches of the set begun so far, and the number of the one whose set is held (0: none yet). */
  private fetchesBegun = 0;
  private heldFetch = 0;
  /** The fetch owed to questions asked while the refresh rate held one off, and its timer. */
  private owed: Promise<void> | undefined;
  private owedTimer: NodeJS.Timeout | undefined;
  /** Questions waiting for a fetch begun after them ({@link fetchBegunAfter}). */
  private waitingForFetch: Array<{ after: number; resolve: () => void }> = [];

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
    clearTimeout(this.owedTimer);
  }

  /**
   * The public key with this id (parsed once, not per request); or why there is none. An unknown
   * `kid` is looked up in a set fetched after the question: at once, or, while the refresh rate
   * holds off fetches, in the one fetch owed to every question asked meanwhile (at most 5 s later).
   * So a key identity recorded a moment ago, at a rotation, is found after that wait, never refused;
   * and a `kid` no fetch begun after the question holds is `absent` (it does not exist, or no
   * longer: 401). `unsure` (503, retry): the ring cannot vouch for that: never loaded, its last
   * load failed, or the set held comes from a fetch begun before the question.
   */
  async find(kid: string): Promise<KeyLookup> {
    const known = this.keys.get(kid);
    if (known) return { key: known };
    const fetchesBefore = this.fetchesBegun;
    if (Date.now() - this.lastRefresh > REFRESH_AT_MOST_EVERY_MS) await this.refresh();
    // The owed fetch, or any other begun after the question (the minute's) should it end first.
    else await Promise.race([this.refreshOnceAllowed(), this.fetchBegunAfter(fetchesBefore)]);
    const key = this.keys.get(kid);
    if (key) return { key };
    return { missing: this.lastLoadFailed || this.heldFetch <= fetchesBefore ? 'unsure' : 'absent' };
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

  /** Settles once a fetch numbered above `fetchNumber` has ended, well or not. */
  private fetchBegunAfter(fetchNumber: number): Promise<void> {
    return new Promise((resolve) => this.waitingForFetch.push({ after: fetchNumber, resolve }));
  }

  /** The fetch owed once the refresh rate allows it: one, however many ask meanwhile. */
  private refreshOnceAllowed(): Promise<void> {
    this.owed ??= new Promise<void>((resolve) => {
      this.owedTimer = setTimeout(resolve, Math.max(0, this.lastRefresh + REFRESH_AT_MOST_EVERY_MS + 1 - Date.now()));
      this.owedTimer.unref();
    }).then(() => {
      this.owed = undefined;
      return this.refresh();
    });
    return this.owed;
  }

  private async load(): Promise<void> {
    const fetch = ++this.fetchesBegun;
    try {
      const jwks = await this.rpc.send(Subjects.KeysList, {});
      // Only a successful load counts against the refresh rate: until identity answers, every unknown kid asks again.
      this.lastRefresh = Date.now();
      this.keys = new Map(jwks.keys.map((jwk) => [jwk.kid, this.sameOrNew(jwk.kid, createPublicKey({ key: jwk as unknown as JsonWebKey, format: 'jwk' }))]));
      this.published = jwks;
      this.heldFetch = fetch;
      this.lastLoadFailed = false;
    } catch (error) {
      this.lastLoadFailed = true;
      this.logger.warn({ err: (error as Error).message }, 'Could not load the token verification keys yet');
    }
    const waiting = this.waitingForFetch;
    this.waitingForFetch = waiting.filter((question) => question.after >= fetch);
    for (const question of waiting) if (question.after < fetch) question.resolve();
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
