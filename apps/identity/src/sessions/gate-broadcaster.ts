import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { SESSIONS_REVOKED, SUSPENSION_CHANGED, type RevokedSession, type SessionsRevokedEvent, type SuspensionChangedEvent } from '#libs/contracts/index.js';
import { LOGGER, NATS_LINK, type NatsLink } from '#libs/platform/index.js';
import type { UnitOfWork } from '../database/unit-of-work.js';

/**
 * Tells every gateway replica, once the change has committed, which sessions ended and which
 * principals were suspended in an account, so that their still-valid access tokens are refused
 * on the very next request. Plain NATS (no queue group): every replica hears it. A replica that
 * missed a message reloads the whole state on reconnect (identity.sessions.gate-state).
 */
@Injectable()
export class GateBroadcaster {
  private readonly pending = new WeakMap<UnitOfWork, { sessions: RevokedSession[]; suspensions: SuspensionChangedEvent[] }>();

  constructor(
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** After `unit` commits: broadcast that these sessions ended. */
  sessionsRevoked(unit: UnitOfWork, sessions: RevokedSession[]): void {
    if (sessions.length > 0) this.batch(unit).sessions.push(...sessions);
  }

  /** After `unit` commits: broadcast that a principal was suspended in (or readmitted to) an account. */
  suspensionChanged(unit: UnitOfWork, event: SuspensionChangedEvent): void {
    this.batch(unit).suspensions.push(event);
  }

  private batch(unit: UnitOfWork) {
    let batch = this.pending.get(unit);
    if (!batch) {
      const created = { sessions: [] as RevokedSession[], suspensions: [] as SuspensionChangedEvent[] };
      this.pending.set(unit, created);
      unit.afterCommit(() => this.flush(created));
      batch = created;
    }
    return batch;
  }

  private flush(batch: { sessions: RevokedSession[]; suspensions: SuspensionChangedEvent[] }): void {
    for (let start = 0; start < batch.sessions.length; start += 500) {
      this.publish(SESSIONS_REVOKED, { sessions: batch.sessions.slice(start, start + 500) } satisfies SessionsRevokedEvent);
    }
    for (const suspension of batch.suspensions) this.publish(SUSPENSION_CHANGED, suspension);
  }

  private publish(subject: string, payload: unknown): void {
    try {
      this.link.connection.publish(subject, JSON.stringify(payload));
    } catch (error) {
      this.logger.warn({ err: error, subject }, 'Could not broadcast to the gateways; they reload the state when they reconnect');
    }
  }
}
