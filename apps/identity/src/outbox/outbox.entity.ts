import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { EventEnvelope, EventType } from '#libs/contracts/index.js';

/** An event written (deleted once JetStream has stored it, so plain link tokens do not linger) in the same transaction as the change it tells of, waiting to be relayed. */
@Entity({ name: 'outbox' })
export class OutboxEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text') type: EventType;
  @Column('uuid', { name: 'account_id', nullable: true }) accountId: string | null;
  @Column('jsonb') payload: EventEnvelope;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
