import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { PrincipalType } from '#libs/contracts/index.js';

/** A program's identity in one account: it holds roles as people do, and signs in with its API keys only. */
@Entity({ name: 'service_accounts' })
export class ServiceAccountEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'account_id' }) accountId: string;
  /** Unique in the account, case ignored. */
  @Column('text') name: string;
  @Column('text') description: string;
  /** false: its keys are refused (and its tokens were ended when it was deactivated). */
  @Column('boolean') active: boolean;
  @Column('text', { name: 'created_by_type', nullable: true }) createdByType: PrincipalType | null;
  @Column('uuid', { name: 'created_by_id', nullable: true }) createdById: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
