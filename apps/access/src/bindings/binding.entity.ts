import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { PrincipalType } from '#libs/contracts/index.js';

/** A role held by a principal in an account, in all applications (null) or some. */
@Entity({ name: 'bindings' })
export class BindingEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'account_id' }) accountId: string;
  @Column('text', { name: 'principal_type' }) principalType: PrincipalType;
  @Column('uuid', { name: 'principal_id' }) principalId: string;
  /** `builtin:<Name>` or a custom role's id. */
  @Column('text', { name: 'role_id' }) roleId: string;
  @Column('uuid', { name: 'application_ids', array: true, nullable: true }) applicationIds: string[] | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
