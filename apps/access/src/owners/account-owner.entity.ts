import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** The owner of an account: every permission, never demoted. */
@Entity({ name: 'account_owners' })
export class AccountOwnerEntity {
  @PrimaryColumn('uuid', { name: 'account_id' }) accountId: string;
  @Column('uuid', { name: 'user_id' }) userId: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
