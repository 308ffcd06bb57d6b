import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * An account's invitation to someone who already has a login, until they accept it: their
 * membership stays inactive, and the account sees only what it typed here, never the person's own
 * name, phone or state. Deleted with the membership (removal, revocation) or on acceptance.
 */
@Entity({ name: 'membership_invitations' })
export class MembershipInvitationEntity {
  @PrimaryColumn('uuid', { name: 'account_id' }) accountId: string;
  @PrimaryColumn('uuid', { name: 'user_id' }) userId: string;
  @Column('text') email: string;
  @Column('text', { name: 'first_name' }) firstName: string;
  @Column('text', { name: 'last_name' }) lastName: string;
  @Column('text') phone: string;
  /** What the membership becomes once accepted (an admin may deactivate someone before they accept). */
  @Column('boolean') active: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
