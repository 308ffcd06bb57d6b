import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A refresh token already exchanged: presenting it again proves it leaked, and ends its session. */
@Entity({ name: 'retired_refresh_tokens' })
export class RetiredRefreshTokenEntity {
  @PrimaryColumn('text', { name: 'token_hash' }) tokenHash: string;
  @Column('uuid', { name: 'session_id' }) sessionId: string;
  @Column('timestamptz', { name: 'retired_at' }) retiredAt: Date;
}
