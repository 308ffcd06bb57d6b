import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AuditAction, AuditOutcome, AuditTargetType, PrincipalType } from '#libs/contracts/index.js';

/** Who did what to whom, when, from where. Never a secret in `details`. */
@Entity({ name: 'audit_events' })
export class AuditEventEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'account_id', nullable: true }) accountId: string | null;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt: Date;
  @Column('text') action: AuditAction;
  @Column('text') outcome: AuditOutcome;
  @Column('text', { name: 'actor_type', nullable: true }) actorType: PrincipalType | null;
  @Column('uuid', { name: 'actor_id', nullable: true }) actorId: string | null;
  @Column('text', { name: 'target_type', nullable: true }) targetType: AuditTargetType | null;
  @Column('uuid', { name: 'target_id', nullable: true }) targetId: string | null;
  @Column('text', { nullable: true }) ip: string | null;
  @Column('jsonb') details: Record<string, string | number | boolean | null | string[]>;
}
