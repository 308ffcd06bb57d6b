import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { DeliveryStatus, MailTemplate } from '#libs/contracts/index.js';

/** One mail of one event: the delivery log line and the guard against sending twice. */
@Entity({ name: 'deliveries' })
export class DeliveryEntity {
  @PrimaryColumn('uuid') id: string;
  /**
   * Unique: the idempotency key of the mail. The id of its event, or for each mail of an event
   * that makes several, a key derived from that id (`deliveryKey`, with {@link sourceEventId} set).
   */
  @Column('uuid', { name: 'event_id' }) eventId: string;
  /** The event that asked for the mail, when {@link eventId} is a key derived from it; null when it is the event's id. */
  @Column('uuid', { name: 'source_event_id', nullable: true }) sourceEventId: string | null;
  @Column('text', { name: 'event_type' }) eventType: string;
  @Column('uuid', { name: 'account_id', nullable: true }) accountId: string | null;
  @Column('text') recipient: string;
  @Column('text') template: MailTemplate;
  @Column('text') locale: string;
  @Column('text') status: DeliveryStatus;
  /** SMTP attempts started. */
  @Column('integer') attempts: number;
  @Column('text', { name: 'last_error', nullable: true }) lastError: string | null;
  /** The Message-ID header (`<event id@sender domain>`, the key in {@link eventId}). */
  @Column('text', { name: 'message_id', nullable: true }) messageId: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column('timestamptz', { name: 'last_attempt_at', nullable: true }) lastAttemptAt: Date | null;
  /** When a `pending` mail may be tried again. */
  @Column('timestamptz', { name: 'next_attempt_at', nullable: true }) nextAttemptAt: Date | null;
  /** Until when a `sending` mail belongs to the replica sending it. */
  @Column('timestamptz', { name: 'lease_until', nullable: true }) leaseUntil: Date | null;
  @Column('timestamptz', { name: 'sent_at', nullable: true }) sentAt: Date | null;
  /**
   * Set on a `pending` mail over a rate limit that waits for room (not counted yet): the latest it
   * may be sent, after which it is suppressed. Null for every other mail.
   */
  @Column('timestamptz', { name: 'rate_wait_until', nullable: true }) rateWaitUntil: Date | null;
  /**
   * When a mail that waited for room got it (was counted): the overdue gauge measures it from then.
   * Null for a mail that never waited, or still waits.
   */
  @Column('timestamptz', { name: 'wait_ended_at', nullable: true }) waitEndedAt: Date | null;
  /** The rate-limit counter a mail waiting for room waits on (the key that refused it): waiting mails take room in the order they came. */
  @Column('text', { name: 'rate_wait_key', nullable: true }) rateWaitKey: string | null;
  /** The name of the link a mail waiting for room carries (`linkTokenHash`): its voiding cancels the mail at once. */
  @Column('text', { name: 'link_token_hash', nullable: true }) linkTokenHash: string | null;
}
