import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A tenant. */
@Entity({ name: 'accounts' })
export class AccountEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text') name: string;
  @Column('text') slug: string;
  @Column('uuid', { name: 'owner_user_id' }) ownerUserId: string;
  /** How many times the account changed hands (each hand-over's event carries it). */
  @Column('integer', { name: 'owner_version', default: 0 }) ownerVersion: number;
  @Column('text') locale: string;
  /** Everyone who works in the account must have passed a second step in the session they use here. */
  @Column('boolean', { name: 'second_step_required', default: false }) requireSecondStep: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
