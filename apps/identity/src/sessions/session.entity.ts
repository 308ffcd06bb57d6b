import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { PrincipalType } from '#libs/contracts/index.js';

/** Why a session ended (kept for the audit trail and support). */
export type SessionEndReason =
  | 'logout'
  | 'refresh-reused'
  | 'ended-by-owner'
  | 'ended-by-admin'
  | 'password-changed'
  | 'password-reset'
  | 'deactivated'
  | 'removed'
  | 'email-change-undone'
  | 'second-step-enabled'
  /** A service account's token whose key was revoked. */
  | 'key-revoked'
  /** Ended by a sign-in of the same login beyond MAX_OPEN_SESSIONS: the one used least recently. */
  | 'session-limit';

/** A sign-in: one refresh token chain; or one access token a service account got for a key (no refresh token: its hash is of a secret nobody holds). */
@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text', { name: 'principal_type' }) principalType: PrincipalType;
  @Column('uuid', { name: 'principal_id' }) principalId: string;
  @Column('uuid', { name: 'account_id', nullable: true }) accountId: string | null;
  @Column('text', { name: 'refresh_hash' }) refreshHash: string;
  @Column('text', { nullable: true }) ip: string | null;
  /** The User-Agent of the client that opened it, then of its last refresh that sent one (see storedUserAgent). */
  @Column('text', { name: 'user_agent', nullable: true }) userAgent: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'last_used_at' }) lastUsedAt: Date;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt: Date;
  /** When the last access token issued for it expires (null: issued before Portico kept it); refused until then once it ends. */
  @Column('timestamptz', { name: 'access_expires_at', nullable: true }) accessExpiresAt: Date | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt: Date | null;
  @Column('text', { name: 'end_reason', nullable: true }) endReason: SessionEndReason | null;
  /** Whether its sign-in passed a second step (or two-step sign-in was turned on in it): its access tokens say so in `amr`. */
  @Column('boolean', { name: 'second_step_passed', default: false }) secondStepPassed: boolean;
  /** A service account's token: the key it was exchanged for (revoking the key ends it). Null for a sign-in. */
  @Column('uuid', { name: 'service_account_key_id', nullable: true }) serviceAccountKeyId: string | null;
}
