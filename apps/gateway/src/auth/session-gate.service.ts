import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Msg, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import {
  SECOND_STEP_POLICY_CHANGED,
  SESSIONS_REVOKED,
  Subjects,
  SUSPENSION_CHANGED,
  type Actor,
  type GateState,
  type SecondStepPolicyChangedEvent,
  type SessionsRevokedEvent,
  type SuspendedPrincipal,
  type SuspensionChangedEvent,
} from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { LOGGER, NATS_LINK, RpcClient, settlesWithin, type NatsLink } from '#libs/platform/index.js';
import { GateList, hearSecondStep, type HeardSince } from './gate-list.js';
import { passedSecondStep } from './second-step.js';

const RELOAD_EVERY_MS = 60_000;
/** The wait before loading again after a failed load; it doubles with each failure in a row, up to {@link RETRY_MAX_MS}. */
const RETRY_MS = 500;
const RETRY_MAX_MS = 15_000;
const FIRST_LOAD_WAIT_MS = 2000;
/** How long after a change of an account's policy the state is read again (see {@link SessionGate.reloadSoon}). */
const POLICY_SETTLE_MS = 1000;

/**
 * Refuses, on this replica, access tokens of sessions that ended and principals suspended in an
 * account, from the moment identity broadcasts it (S3), long before the tokens expire; and knows
 * which accounts refuse sessions opened without a second step (read again a second after each
 * change of one, in case two crossed). The full
 * state is loaded from identity at start, again after every NATS reconnect (broadcasts may have
 * been missed; a load under way then is followed by a fresh one) and every minute, and soon again
 * after a load that failed; until the first load the gateway answers 503 rather than guess.
 */
@Injectable()
export class SessionGate implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly list = new GateList();
  private loaded = false;
  private loading: Promise<void> | undefined;
  private heard: HeardSince | undefined;
  private subscriptions: Subscription[] = [];
  private timer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private stopFollowing: (() => void) | undefined;

  constructor(
    private readonly rpc: RpcClient,
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.subscriptions = [
      this.link.connection.subscribe(SESSIONS_REVOKED, {
        callback: (error, message) => {
          if (!error) this.onRevoked(message);
        },
      }),
      this.link.connection.subscribe(SUSPENSION_CHANGED, {
        callback: (error, message) => {
          if (!error) this.onSuspension(message);
        },
      }),
      this.link.connection.subscribe(SECOND_STEP_POLICY_CHANGED, {
        callback: (error, message) => {
          if (!error) this.onSecondStepPolicy(message);
        },
      }),
    ];
    this.stopFollowing = this.link.onReconnect(() => void this.reloadAfresh());
    void this.reload();
    this.timer = setInterval(() => {
      this.list.prune();
      void this.reload();
    }, RELOAD_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.settleTimer);
    clearTimeout(this.retryTimer);
    this.stopFollowing?.();
    this.subscriptions.forEach((subscription) => subscription.unsubscribe());
  }

  /** Throws 401 when the actor's session has ended (also while the state cannot be known yet: refusing beats guessing). */
  async assertSessionLive(actor: Actor): Promise<void> {
    if (!this.loaded) await settlesWithin(this.reload(), FIRST_LOAD_WAIT_MS);
    if (!this.loaded) throw new DomainError(ErrorCode.ServiceUnavailable, 'Sessions cannot be checked yet, retry shortly');
    if (this.list.isRevoked(actor.sessionId)) throw new DomainError(ErrorCode.Unauthenticated, 'Your session has ended; sign in again');
  }

  /** Whether the actor is barred from the account (an inactive membership). */
  isSuspended(actor: Actor, accountId: string): boolean {
    return this.list.isSuspended({ accountId, principalType: actor.type, principalId: actor.id });
  }

  /**
   * Whether the account refuses the actor's session: it requires a second step, which the session's
   * sign-in did not pass, or which its login has turned off since (its tokens still say it was passed).
   * Never a service account's.
   */
  lacksRequiredSecondStep(actor: Actor, accountId: string): boolean {
    // A service account has no second step to take: its key (256 random bits, made by an admin of the account) is all it signs in with.
    if (actor.type === 'service-account') return false;
    return (!passedSecondStep(actor) || this.list.hasLostSecondStep(actor.sessionId)) && this.list.requiresSecondStep(accountId);
  }

  private reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /**
   * Loads the state once the load under way (if any) is over: that one may have read the state
   * before what calls for a fresh one (a broadcast missed in a reconnect, a policy change), or may
   * lose its reply in the reconnect.
   */
  private reloadAfresh(): Promise<void> {
    return (this.loading ?? Promise.resolve()).then(() => this.reload());
  }

  private async load(): Promise<void> {
    this.heard = { sessions: [], secondStepLost: [], secondStepRegained: [], suspensions: [], policies: [] };
    try {
      const state: Required<GateState> = { revokedSessions: [], suspended: [], secondStepAccounts: [], secondStepLost: [] };
      let page = await this.rpc.send(Subjects.SessionsGateState, {});
      for (;;) {
        state.revokedSessions.push(...page.revokedSessions);
        state.suspended.push(...page.suspended);
        // An identity of the release before (a rollout, a rollback) sends no such list, and issues no token that passed a second
        // step: requiring one would shut everyone out, so nothing is required by what it sends.
        if (Array.isArray(page.secondStepAccounts)) state.secondStepAccounts.push(...page.secondStepAccounts);
        if (Array.isArray(page.secondStepLost)) state.secondStepLost.push(...page.secondStepLost);
        if (!page.next) break;
        page = await this.rpc.send(Subjects.SessionsGateState, page.next);
      }
      this.list.load(state, this.heard);
      this.loaded = true;
      this.failures = 0;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'Could not load the gate state from identity; loading it again soon');
      this.retrySoon();
    } finally {
      this.heard = undefined;
    }
  }

  /**
   * A failed load is tried again soon, not at the next minute's reload: until then a session
   * ended meanwhile (its broadcast missed) would still be let in. During a longer outage the retries
   * slow down; a reconnect loads at once anyway.
   */
  private retrySoon(): void {
    if (this.retryTimer || this.stopped) return;
    this.failures += 1;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        void this.reload();
      },
      Math.min(RETRY_MS * 2 ** (this.failures - 1), RETRY_MAX_MS),
    );
    this.retryTimer.unref();
  }

  private onRevoked(message: Msg): void {
    const event = parse<SessionsRevokedEvent>(message);
    if (!event || !Array.isArray(event.sessions)) return;
    this.list.revoke(event.sessions);
    this.heard?.sessions.push(...event.sessions);
    const lost = Array.isArray(event.secondStepLost) ? event.secondStepLost : [];
    const regained = Array.isArray(event.secondStepRegained) ? event.secondStepRegained.filter((id) => typeof id === 'string') : [];
    this.list.loseSecondStep(lost);
    this.list.regainSecondStep(regained);
    if (this.heard) hearSecondStep(this.heard, lost, regained);
    // A regain says nothing of its time: heard after a later loss broadcast by another identity replica, it would let in a session that
    // lost its second step again. The state, read a moment later, says which committed last.
    if (regained.length > 0) this.reloadSoon();
  }

  private onSuspension(message: Msg): void {
    const event = parse<SuspensionChangedEvent>(message);
    if (!event || typeof event.accountId !== 'string') return;
    const principal: SuspendedPrincipal = { accountId: event.accountId, principalType: event.principalType, principalId: event.principalId };
    const changedAt = typeof event.changedAt === 'string' ? event.changedAt : undefined;
    // Older than a change of the principal heard already: the later one stands (and a load under way must not bring this back).
    if (!this.list.suspend(principal, event.suspended === true, changedAt)) return;
    this.heard?.suspensions.push({ ...principal, suspended: event.suspended === true, changedAt });
  }

  private onSecondStepPolicy(message: Msg): void {
    const event = parse<SecondStepPolicyChangedEvent>(message);
    if (!event || typeof event.accountId !== 'string') return;
    const change = { accountId: event.accountId, requireSecondStep: event.requireSecondStep === true };
    this.list.setSecondStepRequired(change.accountId, change.requireSecondStep);
    this.heard?.policies.push(change);
    this.reloadSoon();
  }

  /**
   * Two changes of one account's policy made at once on two identity replicas may be heard in
   * either order, as a session's regained second step and its loss: the state is read again a
   * moment later, once both have committed, rather than at the next minute's reload.
   */
  private reloadSoon(): void {
    if (this.settleTimer || this.stopped) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      // A load under way may have read the state before the later change committed: a fresh one follows it.
      void this.reloadAfresh();
    }, POLICY_SETTLE_MS);
    this.settleTimer.unref();
  }
}

function parse<T>(message: Msg): T | undefined {
  try {
    return message.json<T>();
  } catch {
    return undefined;
  }
}
