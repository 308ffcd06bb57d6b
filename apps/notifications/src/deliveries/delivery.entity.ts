import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { DeliveryStatus, MailTemplate } from '#libs/contracts/index.js';

/** One mail for one event: the delivery log line and the guard against sending twice. */
@Entity({ name: 'deliveries' })
export class DeliveryEntity {
  @PrimaryColumn('uuid') id: string;
  /** Unique: the idempotency key of the event. */
  @Column('uuid', { name: 'event_id' }) eventId: string;
  @Column('text', { name: 'event_type' }) eventType: string;
  @Column('uuid', { name: 'account_id', nullable: true }) accountId: string | null;
  @Column('text') recipient: string;
  @Column('text') template: MailTemplate;
  @Column('text') locale: string;
  @Column('text') status: DeliveryStatus;
  /** SMTP attempts started. */
  @Column('integer') attempts: number;
  @Column('text', { name: 'last_error', nullable: true }) lastError: string | null;
  /** The Message-ID header (`<event id@sender domain>`). */
  @Column('text', { name: 'message_id', nullable: true }) messageId: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column('timestamptz', { name: 'last_attempt_at', nullable: true }) lastAttemptAt: Date | null;
  /** When a `pending` mail may be tried again. */
  @Column('timestamptz', { name: 'next_attempt_at', nullable: true }) nextAttemptAt: Date | null;
  /** Until when a `sending` mail belongs to the replica sending it. */
  @Column('timestamptz', { name: 'lease_until', nullable: true }) leaseUntil: Date | null;
  @Column('timestamptz', { name: 'sent_at', nullable: true }) sentAt: Date | null;
}
