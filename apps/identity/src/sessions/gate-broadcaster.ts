import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  SECOND_STEP_POLICY_CHANGED,
  SESSIONS_REVOKED,
  SUSPENSION_CHANGED,
  type RevokedSession,
  type SecondStepPolicyChangedEvent,
  type SessionsRevokedEvent,
  type SuspensionChangedEvent,
} from '#libs/contracts/index.js';
import { LOGGER, NATS_LINK, type NatsLink } from '#libs/platform/index.js';
import type { UnitOfWork } from '../database/unit-of-work.js';
import { databaseNow } from '../principals/activity-events.js';

/** What one unit of work tells the gateways once it commits. */
interface Batch {
  sessions: RevokedSession[];
  secondStepLost: RevokedSession[];
  secondStepRegained: string[];
  suspensions: SuspensionChangedEvent[];
  policies: SecondStepPolicyChangedEvent[];
  /** Gives every suspension of the batch the time read last in its transaction. */
  stampSuspensions: () => Promise<void>;
}

/**
 * Tells every gateway replica, once the change has committed, which sessions ended (or lost their
 * second step), which principals were suspended in an account, and which accounts began or
 * stopped requiring a second step, so that their still-valid access tokens are refused (or let in)
 * on the very next request.
 * Plain NATS (no queue group): every replica hears it. A replica that missed a message reloads the
 * whole state on reconnect and every minute (identity.sessions.gate-state).
 */
@Injectable()
export class GateBroadcaster {
  private readonly pending = new WeakMap<UnitOfWork, Batch>();

  constructor(
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** After `unit` commits: broadcast that these sessions ended. */
  sessionsRevoked(unit: UnitOfWork, sessions: RevokedSession[]): void {
    if (sessions.length > 0) this.batch(unit).sessions.push(...sessions);
  }

  /**
   * After `unit` commits: broadcast that a principal was suspended in (or readmitted to) an account.
   * Each carries the time read last in the transaction (it holds the person's row by then): of two
   * changes of one principal, the later carries the later time, whichever replica broadcasts first.
   */
  suspensionChanged(unit: UnitOfWork, event: Omit<SuspensionChangedEvent, 'changedAt'>): void {
    const batch = this.batch(unit);
    batch.suspensions.push({ ...event });
    unit.beforeCommit(batch.stampSuspensions);
  }

  /** Broadcasts now that these sessions ended: their change has committed already (a statement of its own). */
  sessionsRevokedNow(sessions: RevokedSession[]): void {
    this.publishRevoked(sessions);
  }

  /**
   * After `unit` commits: broadcast that these open sessions no longer count as having passed a
   * second step (`until`: when their last access token expires). Said on the subject of ended
   * sessions, which every gateway may hear already, with no session ended.
   */
  secondStepLost(unit: UnitOfWork, sessions: RevokedSession[]): void {
    if (sessions.length > 0) this.batch(unit).secondStepLost.push(...sessions);
  }

  /** After `unit` commits: broadcast that this session passed a second step again (it turned its login's on again). */
  secondStepRegained(unit: UnitOfWork, sessionId: string): void {
    this.batch(unit).secondStepRegained.push(sessionId);
  }

  /** After `unit` commits: broadcast that an account began (or stopped) requiring a second step. */
  secondStepPolicyChanged(unit: UnitOfWork, event: SecondStepPolicyChangedEvent): void {
    this.batch(unit).policies.push(event);
  }

  private batch(unit: UnitOfWork): Batch {
    let batch = this.pending.get(unit);
    if (!batch) {
      const created: Batch = {
        sessions: [],
        secondStepLost: [],
        secondStepRegained: [],
        suspensions: [],
        policies: [],
        stampSuspensions: async () => {
          const changedAt = await databaseNow(unit.manager);
          for (const suspension of created.suspensions) suspension.changedAt = changedAt;
        },
      };
      this.pending.set(unit, created);
      unit.afterCommit(() => this.flush(created));
      batch = created;
    }
    return batch;
  }

  private flush(batch: Batch): void {
    this.publishRevoked(batch.sessions);
    this.publishRevoked(batch.secondStepLost, 'secondStepLost');
    if (batch.secondStepRegained.length > 0)
      this.publish(SESSIONS_REVOKED, { sessions: [], secondStepRegained: batch.secondStepRegained } satisfies SessionsRevokedEvent);
    for (const suspension of batch.suspensions) this.publish(SUSPENSION_CHANGED, suspension);
    for (const policy of batch.policies) this.publish(SECOND_STEP_POLICY_CHANGED, policy);
  }

  /** Ended sessions (or, as `secondStepLost`, sessions that lost their second step, with no session ended), 500 a message. */
  private publishRevoked(sessions: RevokedSession[], as: 'sessions' | 'secondStepLost' = 'sessions'): void {
    for (let start = 0; start < sessions.length; start += 500) {
      this.publish(SESSIONS_REVOKED, { sessions: [], [as]: sessions.slice(start, start + 500) } satisfies SessionsRevokedEvent);
    }
  }

  private publish(subject: string, payload: unknown): void {
    try {
      this.link.connection.publish(subject, JSON.stringify(payload));
    } catch (error) {
      this.logger.warn({ err: error, subject }, 'Could not broadcast to the gateways; they reload the state when they reconnect');
    }
  }
}
