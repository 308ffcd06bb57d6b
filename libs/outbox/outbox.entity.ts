import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { EventEnvelope, EventType } from '#libs/contracts/index.js';

/**
 * An event written in the same transaction as the change it tells of, waiting to be relayed; deleted
 * once JetStream has stored it (so nothing an event carries, such as identity's plain link tokens,
 * lingers). A row JetStream refuses for good is kept, set aside (`setAsideAt`), until an operator
 * re-drives or deletes it. Every service that publishes events has this table in its own schema.
 */
@Entity({ name: 'outbox' })
export class OutboxEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text') type: EventType;
  @Column('uuid', { name: 'account_id', nullable: true }) accountId: string | null;
  @Column('jsonb') payload: EventEnvelope;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  /** Failed publishes counted against the row (refusals, not outages of NATS: those are never counted). */
  @Column('integer', { default: 0 }) attempts: number;
  /** What the last counted failure said (JetStream's code and message), null while none was counted. */
  @Column('text', { name: 'last_error', nullable: true }) lastError: string | null;
  /** When the relay set the row aside (no longer publishing it; later rows go on), null while it is still relayed. */
  @Column('timestamptz', { name: 'set_aside_at', nullable: true }) setAsideAt: Date | null;
}
