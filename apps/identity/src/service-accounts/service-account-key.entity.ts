import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An API key of a service account: its id is the client id, its secret is kept only as a SHA-256 hash. */
@Entity({ name: 'service_account_keys' })
export class ServiceAccountKeyEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'service_account_id' }) serviceAccountId: string;
  @Column('uuid', { name: 'account_id' }) accountId: string;
  /** SHA-256 (hex) of the secret: its 256 random bits make a slow hash unnecessary. */
  @Column('text', { name: 'secret_hash' }) secretHash: string;
  /** The secret's first characters, to tell keys apart. */
  @Column('text') hint: string;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt: Date | null;
  @Column('timestamptz', { name: 'last_used_at', nullable: true }) lastUsedAt: Date | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
