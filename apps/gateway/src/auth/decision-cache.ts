import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { ACCESS_CHANGED, DECISION_CACHE_LIFETIME_MS, type AccessChangedEvent, type CheckResult, type Principal } from '#libs/contracts/index.js';
import { NATS_LINK, type NatsLink } from '#libs/platform/index.js';

const MAX_ENTRIES = 200_000;

/** The key of `principal`'s decision on Portico's `section`:`action` in an account's entries (the guard's and the handlers'). */
export function decisionKey(principal: Principal, section: string, action: string): string {
  return `${principal.type}:${principal.id}:${section}:${action}`;
}

/**
 * The gateway's cache of access decisions, per account. `access.changed` (broadcast to every
 * gateway replica) drops an account's entries the moment it arrives; a reconnect to NATS drops
 * everything (a broadcast may have been missed); entries also expire after a minute. A decision
 * asked before an invalidation but answered after it may predate the change, so it is not kept:
 * callers take a {@link ticket} before asking and hand it to {@link set}. A decision asked after
 * it must not predate it either: the version the broadcast named is kept for a minute
 * ({@link versionHeard}), and sent with the account's checks, so that an access replica the
 * broadcast has not reached yet reloads the account before deciding.
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
  /** The version each account's last broadcast named, until when it is sent with the account's checks. */
  private readonly heard = new Map<string, { version: number; until: number }>();
  private subscription: Subscription | undefined;
  private stopWatching: (() => void) | undefined;

  constructor(@Inject(NATS_LINK) private readonly link: NatsLink) {}

  onApplicationBootstrap(): void {
    this.subscription = this.link.connection.subscribe(ACCESS_CHANGED, {
      callback: (error, message) => {
        if (error) return;
        try {
          const event = JSON.parse(message.string()) as AccessChangedEvent;
          this.forgetAccount(event.accountId);
          this.hear(event);
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

  /**
   * The account's version its last `access.changed` named, for a minute after it arrived (by then every
   * access replica has heard it, or re-synced); undefined without one.
   */
  versionHeard(accountId: string): number | undefined {
    const heard = this.heard.get(accountId);
    if (!heard) return undefined;
    if (heard.until >= Date.now()) return heard.version;
    this.heard.delete(accountId);
    return undefined;
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

  /** Keeps the highest version heard of the event's account (one that is no whole number is ignored). */
  private hear({ accountId, version }: AccessChangedEvent): void {
    if (typeof accountId !== 'string' || !Number.isSafeInteger(version) || (version as number) < 0) return;
    const known = this.versionHeard(accountId);
    if (known !== undefined && known > (version as number)) return;
    if (this.heard.size >= MAX_ENTRIES) this.heard.clear();
    this.heard.set(accountId, { version: version as number, until: Date.now() + DECISION_CACHE_LIFETIME_MS });
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
