import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { EventEnvelope, EventType } from '#libs/contracts/index.js';

/**
 * An event written in the same transaction as the change it tells of, waiting to be relayed; deleted
 * once JetStream has stored it (so nothing an event carries, such as identity's plain link tokens,
 * lingers). Every service that publishes events has this table in its own schema.
 */
@Entity({ name: 'outbox' })
export class OutboxEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text') type: EventType;
  @Column('uuid', { name: 'account_id', nullable: true }) accountId: string | null;
  @Column('jsonb') payload: EventEnvelope;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
