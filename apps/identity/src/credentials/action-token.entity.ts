import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * What a mailed link lets its holder do; `sign-in` is no mailed link but the challenge that carries a
 * sign-in from the password to the second step; `invitation` accepts an account's invitation to
 * someone who already has a login.
 */
export type ActionTokenPurpose = 'activation' | 'reset' | 'email-change' | 'email-undo' | 'sign-in' | 'invitation';

/** A single-use link token, stored only as its hash, for exactly one user or one subuser. */
@Entity({ name: 'action_tokens' })
export class ActionTokenEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text', { name: 'token_hash' }) tokenHash: string;
  @Column('text') purpose: ActionTokenPurpose;
  @Column('uuid', { name: 'user_id', nullable: true }) userId: string | null;
  @Column('uuid', { name: 'subuser_id', nullable: true }) subuserId: string | null;
  @Column('uuid', { name: 'account_id', nullable: true }) accountId: string | null;
  /** For an `email-change` link: the address it moves the login to (the one it was mailed to); for an `email-undo` link, the address it moves it back to. */
  @Column('text', { name: 'new_email', nullable: true }) newEmail: string | null;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt: Date;
  @Column('timestamptz', { name: 'used_at', nullable: true }) usedAt: Date | null;
  @Column('timestamptz', { name: 'voided_at', nullable: true }) voidedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
