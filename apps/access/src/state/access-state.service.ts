import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { isUUID } from 'class-validator';
import { DataSource, type EntityManager } from 'typeorm';
import { ACCESS_CHANGED, DECISION_CACHE_LIFETIME_MS, type AccessChangedEvent } from '#libs/contracts/index.js';
import { CONFIG, LOGGER, NATS_LINK, settlesWithin, Slots, type NatsLink } from '#libs/platform/index.js';
import type { AccessConfig } from '../access.config.js';
import { DecisionStore } from '../checks/decision-store.js';
import { AccessRepository, accountChangeBusy } from './access-repository.js';
import { accessMetrics } from './access-metrics.js';

/** How long a change waits for the changes of its account before it (on any replica) before answering 503 (retry). */
const LOCK_WAIT_MS = 4000;

/** How far back a re-sync looks before the previous one: covers a change whose transaction committed a while after it counted. */
const RESYNC_OVERLAP_MS = 60_000;

/** At most this many accounts are remembered as caught up to (or not reachable at) a version checks asked for. */
const MAX_CATCH_UPS = 10_000;

/**
 * Keeps the in-memory decision store current on every replica. At start it loads everything.
 * A change runs in {@link mutate}: one transaction per account at a time, judged on the account's
 * committed state, raising its version; then this replica reloads it and broadcasts
 * `access.changed`, so every access replica reloads it and every gateway drops its cached
 * decisions (a replica marks the account as reloading the moment the broadcast arrives, and
 * checks on it wait for the reload). Broadcasts can be missed (a NATS cut, a writer that died
 * between commit and broadcast): every `ACCESS_RESYNC_INTERVAL_MS`, and at once after a
 * reconnect, a replica reloads every account whose version in PostgreSQL is newer than its own.
 * An older snapshot never replaces a newer one, and an account whose reload failed refuses checks
 * (503) until a retry succeeds.
 */
@Injectable()
export class AccessStateService implements OnApplicationBootstrap, OnModuleDestroy {
  private subscription: Subscription | undefined;
  private stopWatching: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The database's clock at the last re-sync that succeeded. */
  private syncedAt: Date | undefined;
  private resyncing: Promise<void> | undefined;
  /** Broadcasts that may not have left (their flush failed), by account: repeated by the next re-sync. */
  private readonly unsent = new Map<string, number>();
  /** The change of each account under way on this replica (the next waits for it). */
  private readonly changing = new Map<string, Promise<void>>();
  /** A re-sync's reloads hold one of these each: see {@link resyncReloadLimit}. */
  private readonly resyncReloads: Slots;
  /** Per account, the highest version checks asked for: its catch-up under way, or done without reaching it (see {@link catchUp}). */
  private readonly catchUps = new Map<string, CatchUp>();
  /** A catch-up's reload holds one of these: see {@link catchUp}. */
  private readonly catchUpReloads: Slots;

  constructor(
    private readonly store: DecisionStore,
    private readonly repository: AccessRepository,
    private readonly dataSource: DataSource,
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) private readonly config: Pick<AccessConfig, 'ACCESS_RESYNC_INTERVAL_MS' | 'DATABASE_POOL_SIZE'>,
  ) {
    this.resyncReloads = new Slots(resyncReloadLimit(config.DATABASE_POOL_SIZE));
    // A quarter of the pool: with a re-sync's half (both run after a NATS cut), a quarter stays for the changes.
    this.catchUpReloads = new Slots(Math.max(1, Math.floor(config.DATABASE_POOL_SIZE / 4)));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = this.link.connection.subscribe(ACCESS_CHANGED, {
      callback: (error, message) => {
        if (error) return;
        const event = safeParse(message.string());
        // A broadcast of a version this replica holds already (its own, or a re-sync's) needs no reload.
        if (event && !(event.version !== undefined && this.store.versionOf(event.accountId) >= event.version)) void this.reload(event.accountId);
      },
    });
    // Before the first load there is nothing to re-sync: that load reads everything.
    this.stopWatching = this.link.onReconnect(() => void (this.syncedAt && this.resync()));
    const loadStarted = await this.repository.clock();
    for (const snapshot of await this.repository.loadAll()) this.store.replaceAccount(snapshot);
    this.syncedAt = loadStarted;
    const { accounts, principals } = this.store.size();
    this.logger.info({ accounts, principals }, 'Access decisions loaded');
    await this.announceRecentChanges(loadStarted);
    this.timer = setInterval(() => void this.resync(), this.config.ACCESS_RESYNC_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Broadcasts the accounts changed within a gateway cache's lifetime before this replica loaded:
   * their writer may have died between its commit and its broadcast, and a replica that loaded
   * afterwards is never behind on them, so no re-sync would tell the gateways (replicas holding that
   * version do not reload). Failing, it is logged: start goes on, and gateways forget within a minute.
   */
  private async announceRecentChanges(loadStarted: Date): Promise<void> {
    try {
      const { changes } = await this.repository.changedSince(new Date(loadStarted.getTime() - DECISION_CACHE_LIFETIME_MS));
      for (const { accountId, version } of changes) this.broadcast(accountId, version);
      await this.link.connection.flush();
    } catch (error) {
      this.logger.warn({ err: error }, 'Could not announce the accounts changed just before this replica started');
    }
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    this.stopWatching?.();
    clearInterval(this.timer);
  }

  /**
   * Runs one change of an account: in a transaction that first waits for every other change of the
   * account to end and loads its committed state into memory (so `change` judges on it, with
   * nothing changing under it), raises the account's version and runs `change` with it (the
   * version this change commits as: events that must be ordered carry it). Once committed, reloads
   * and broadcasts ({@link changed}).
   */
  mutate<T>(accountId: string, change: (manager: EntityManager, version: number) => Promise<T>, principalId?: string): Promise<T> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    // One at a time per account on this replica too: waiting here holds no database connection.
    return this.oneAtATime(accountId, deadline, async () => {
      const waitMs = deadline - Date.now();
      if (waitMs <= 0) throw accountChangeBusy();
      let committed = 0;
      const result = await this.dataSource.transaction(async (manager) => {
        await this.repository.lockAccount(manager, accountId, waitMs);
        // Memory usually holds the committed version already: load it only when it does not. Read under the lock, it is the
        // truth even when older than memory (the database lost its last commits): the change is judged on what it holds.
        if ((await this.repository.versionOf(manager, accountId)) !== this.store.versionOf(accountId)) {
          this.store.replaceAccount(await this.repository.loadAccount(accountId, manager), { evenIfOlder: true });
        }
        committed = await this.repository.bumpVersion(manager, accountId);
        return change(manager, committed);
      });
      await this.changed(accountId, committed, principalId);
      return result;
    });
  }

  /**
   * Before a decision asked with the account's version its asker heard of (`atLeastVersion`): when
   * this replica holds an older one (that broadcast has not reached it yet, a NATS cluster
   * delivering it by another route than the question), what the decision waits for: the reload
   * under way, if any (the broadcast's, usually), then a reload of its own if that one did not
   * reach the version. Undefined: decide now. One catch-up per version asked for (checks asking for
   * it meanwhile wait for the same), at most a quarter of the database pool of them at once; a
   * version the database did not reach (a bogus one, a lost commit) is not asked of it again, so that
   * checks naming it cannot make every decision a reload (a lower one, made since, is).
   */
  catchUp(accountId: string, version: number): Promise<void> | undefined {
    if (this.store.versionOf(accountId) >= version) return undefined;
    const known = this.catchUps.get(accountId);
    // One under way for this version or a later one; or this very version, found not reached (a lower one may have been made since).
    if (known?.done && known.version >= version) return known.done;
    if (known && !known.done && known.version === version) return undefined;
    if (this.catchUps.size >= MAX_CATCH_UPS) this.catchUps.clear();
    const entry: CatchUp = { version, done: undefined };
    this.catchUps.set(accountId, entry);
    entry.done = this.reloadUpTo(accountId, version).then((outcome) => {
      entry.done = undefined;
      // Reached, or failed (its checks answer 503 until a reload succeeds): a later check may ask again. Not reached: not asked again.
      if (outcome !== 'not-reached' && this.catchUps.get(accountId) === entry) this.catchUps.delete(accountId);
    });
    return entry.done;
  }

  /** Waits for the account's reload under way, then reloads it (holding a catch-up slot) if it still holds less than `version`. */
  private async reloadUpTo(accountId: string, version: number): Promise<'reached' | 'not-reached' | 'failed'> {
    await this.store.reloadUnderWay(accountId)?.catch(() => undefined);
    if (this.store.versionOf(accountId) >= version) return 'reached';
    const reloaded = await this.catchUpReloads.with(() => this.reload(accountId));
    if (!reloaded) return 'failed';
    return this.store.versionOf(accountId) >= version ? 'reached' : 'not-reached';
  }

  /**
   * Runs `work` once the account's previous change on this replica has settled, or answers 503 at
   * `deadline` without running it; the change after waits for both.
   */
  private oneAtATime<T>(accountId: string, deadline: number, work: () => Promise<T>): Promise<T> {
    const previous = this.changing.get(accountId) ?? Promise.resolve();
    const next = settlesWithin(previous, deadline - Date.now()).then((inTime) => {
      if (!inTime) throw accountChangeBusy();
      return work();
    });
    const settled = Promise.allSettled([previous, next]).then(() => undefined);
    this.changing.set(accountId, settled);
    void settled.then(() => {
      if (this.changing.get(accountId) === settled) this.changing.delete(accountId);
    });
    return next;
  }

  /**
   * After a committed change (`version`): reload here, then tell every replica and gateway, with
   * the committed version (also when this reload failed: the others must reload).
   */
  private async changed(accountId: string, version: number, principalId?: string): Promise<void> {
    await this.reload(accountId);
    this.broadcast(accountId, version, principalId);
    // The change is committed whatever NATS does now; a broadcast that may not have left is repeated by the re-sync.
    await this.link.connection.flush().catch((error: unknown) => {
      this.unsent.set(accountId, version);
      this.logger.warn({ err: error, accountId }, 'Could not flush access.changed; the re-sync will repeat it');
    });
  }

  /** Tells every replica and gateway that the account changed, up to `version` (a replica holding it need not reload). */
  private broadcast(accountId: string, version: number, principalId?: string): void {
    const event: AccessChangedEvent = { accountId, version, ...(principalId && { principalId }) };
    this.link.connection.publish(ACCESS_CHANGED, JSON.stringify(event));
  }

  /**
   * Reloads every account changed since the last re-sync (minus an overlap) whose version is newer
   * than the one in memory, and retries those whose reload failed. One at a time.
   */
  resync(): Promise<void> {
    this.resyncing ??= this.resyncNow().finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  private async resyncNow(): Promise<void> {
    try {
      const since = this.syncedAt && new Date(this.syncedAt.getTime() - RESYNC_OVERLAP_MS);
      const { polledAt, changes } = await this.repository.changedSince(since);
      // (An account being reloaded counts too: that reload may have read before the change; the next runs after it.)
      const behind = changes.filter(({ accountId, version }) => version > this.store.versionOf(accountId));
      const accounts = [...new Set([...behind.map(({ accountId }) => accountId), ...this.store.staleAccounts()])];
      if (accounts.length > 0) this.logger.warn({ accounts: accounts.length }, 'Re-syncing access data of accounts whose change was not received');
      // A slot first, then the account's reload queue: a change's own reload never waits behind a slot.
      const reloads = await Promise.all(accounts.map((accountId) => this.resyncReloads.with(() => this.reload(accountId))));
      const caughtUp = new Set(behind.map(({ accountId }) => accountId));
      accessMetrics.resynced.inc(accounts.filter((accountId, index) => reloads[index] && caughtUp.has(accountId)).length);
      // Gateways may have missed the broadcast too: tell them (replicas holding that version do not reload again).
      for (const { accountId, version } of behind) this.broadcast(accountId, version);
      await this.repeatUnsent();
      if (reloads.every(Boolean)) this.syncedAt = polledAt;
    } catch (error) {
      this.logger.error({ err: error }, 'Could not re-sync access data');
    }
  }

  /** Broadcasts again what a failed flush may have lost; kept for the next re-sync if this flush fails too. */
  private async repeatUnsent(): Promise<void> {
    if (this.unsent.size === 0) return;
    const repeated = [...this.unsent];
    for (const [accountId, version] of repeated) this.broadcast(accountId, version);
    await this.link.connection.flush();
    for (const [accountId, version] of repeated) if (this.unsent.get(accountId) === version) this.unsent.delete(accountId);
  }

  /** Reloads one account; false (and logged) when it failed: the account then refuses checks until a re-sync reloads it. */
  private reload(accountId: string): Promise<boolean> {
    return this.store
      .refresh(accountId, () => this.repository.loadAccount(accountId))
      .then(
        () => true,
        (error: unknown) => {
          this.logger.error({ err: error, accountId }, 'Could not reload access data of an account');
          return false;
        },
      );
  }
}

/** A catch-up to the version checks asked for: `done` while under way, undefined once done without reaching it. */
interface CatchUp {
  version: number;
  done: Promise<void> | undefined;
}

/**
 * How many reloads of one re-sync may run at once: half the database pool (at least one). A
 * re-sync that finds thousands of accounts behind (a replica cut off for a while) would otherwise
 * queue for every connection, and changes, which answer 503 after 4 s, would wait behind it. The
 * reload on a broadcast is not held back: its account is marked as reloading the moment the
 * broadcast arrives, and its checks wait for it.
 */
export function resyncReloadLimit(poolSize: number): number {
  return Math.max(1, Math.floor(poolSize / 2));
}

/**
 * The event, if it names an account id (anything else would fail its reload, and mark a bogus
 * account stale for ever) and its version, if any, is a number.
 */
function safeParse(text: string): AccessChangedEvent | undefined {
  try {
    const value = JSON.parse(text) as AccessChangedEvent;
    const versionOk = value.version === undefined || Number.isSafeInteger(value.version);
    return typeof value.accountId === 'string' && isUUID(value.accountId) && versionOk ? { ...value, accountId: value.accountId.toLowerCase() } : undefined;
  } catch {
    return undefined;
  }
}
