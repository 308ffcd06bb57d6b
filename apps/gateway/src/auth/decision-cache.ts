import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { ACCESS_CHANGED, DECISION_CACHE_LIFETIME_MS, type AccessChangedEvent, type CheckResult } from '#libs/contracts/index.js';
import { NATS_LINK, type NatsLink } from '#libs/platform/index.js';

const MAX_ENTRIES = 200_000;

/**
 * The gateway's cache of access decisions, per account. `access.changed` (broadcast to every
 * gateway replica) drops an account's entries the moment it arrives; a reconnect to NATS drops
 * everything (a broadcast may have been missed); entries also expire after a minute. A decision
 * asked before an invalidation but answered after it may predate the change, so it is not kept:
 * callers take a {@link ticket} before asking and hand it to {@link set}.
 */
@Injectable()
export class DecisionCache implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly byAccount = new Map<string, Map<string, { result: CheckResult; expires: number }>>();
  private entries = 0;
  /** Counts invalidations; a ticket is its value when a decision was asked. */
  private invalidations = 0;
  /** The count at each account's last invalidation (kept for accounts invalidated since the last clear). */
  private readonly accountInvalidatedAt = new Map<string, number>();
  /** The count at the last invalidation of everything. */
  private clearedAt = 0;
  private subscription: Subscription | undefined;
  private stopWatching: (() => void) | undefined;

  constructor(@Inject(NATS_LINK) private readonly link: NatsLink) {}

  onApplicationBootstrap(): void {
    this.subscription = this.link.connection.subscribe(ACCESS_CHANGED, {
      callback: (error, message) => {
        if (error) return;
        try {
          this.forgetAccount((JSON.parse(message.string()) as AccessChangedEvent).accountId);
        } catch {
          this.clear();
        }
      },
    });
    this.stopWatching = this.link.onReconnect(() => this.clear());
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    this.stopWatching?.();
  }

  /** A cached decision, if fresh. */
  get(accountId: string, key: string): CheckResult | undefined {
    const entry = this.byAccount.get(accountId)?.get(key);
    if (!entry || entry.expires < Date.now()) return undefined;
    return entry.result;
  }

  /** To take before asking for a decision that {@link set} may keep. */
  ticket(): number {
    return this.invalidations;
  }

  /** Remembers a decision asked with `ticket`, unless its account (or everything) was invalidated since: it may predate that change. */
  set(accountId: string, key: string, result: CheckResult, ticket: number): void {
    if (this.clearedAt > ticket || (this.accountInvalidatedAt.get(accountId) ?? 0) > ticket) return;
    if (this.entries >= MAX_ENTRIES) this.clear();
    let account = this.byAccount.get(accountId);
    if (!account) {
      account = new Map<string, { result: CheckResult; expires: number }>();
      this.byAccount.set(accountId, account);
    }
    if (!account.has(key)) this.entries += 1;
    account.set(key, { result, expires: Date.now() + DECISION_CACHE_LIFETIME_MS });
  }

  private forgetAccount(accountId: string): void {
    this.invalidations += 1;
    // Bounded: past as many accounts as entries allowed, forget everything instead.
    if (this.accountInvalidatedAt.size >= MAX_ENTRIES) return this.clear();
    this.accountInvalidatedAt.set(accountId, this.invalidations);
    this.entries -= this.byAccount.get(accountId)?.size ?? 0;
    this.byAccount.delete(accountId);
  }

  private clear(): void {
    this.invalidations += 1;
    this.clearedAt = this.invalidations;
    this.accountInvalidatedAt.clear();
    this.byAccount.clear();
    this.entries = 0;
  }
}
