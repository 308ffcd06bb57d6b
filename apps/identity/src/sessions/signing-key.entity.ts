import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { PublicJwk } from '#libs/contracts/index.js';

/** A key pair that signs access tokens. */
@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn('text') kid: string;
  @Column('text', { name: 'private_pem' }) privatePem: string;
  @Column('jsonb', { name: 'public_jwk' }) publicJwk: PublicJwk;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'retired_at', nullable: true }) retiredAt: Date | null;
}
