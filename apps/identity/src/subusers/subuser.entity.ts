import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { PersonStatus } from '#libs/contracts/index.js';

/** A login that exists only inside one account and signs in on that account's own page. */
@Entity({ name: 'subusers' })
export class SubuserEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'account_id' }) accountId: string;
  /** Lower-cased; unique in the account. */
  @Column('text') login: string;
  @Column('text', { nullable: true }) email: string | null;
  @Column('text') description: string;
  @Column('text', { name: 'password_hash', nullable: true }) passwordHash: string | null;
  @Column('text') status: PersonStatus;
  @Column('boolean') active: boolean;
  /** Whether signing in takes a second step (written only with its authenticator, in mfa/totp-factors.ts). */
  @Column({ type: 'boolean', name: 'second_step', insert: false, update: false }) secondStep: boolean;
  @Column('text') locale: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column('timestamptz', { name: 'last_login_at', nullable: true }) lastLoginAt: Date | null;
}
