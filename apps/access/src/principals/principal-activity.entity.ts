import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { PrincipalType } from '#libs/contracts/index.js';

/** Whether a principal is active in an account, as identity last told (checks refuse an inactive one everything there). */
@Entity({ name: 'principal_activity' })
export class PrincipalActivityEntity {
  @PrimaryColumn('uuid', { name: 'account_id' }) accountId: string;
  @PrimaryColumn('text', { name: 'principal_type' }) principalType: PrincipalType;
  @PrimaryColumn('uuid', { name: 'principal_id' }) principalId: string;
  @Column('boolean') active: boolean;
  /** Identity's time of the change: only a later one replaces it. */
  @Column('timestamptz', { name: 'changed_at' }) changedAt: Date;
}
