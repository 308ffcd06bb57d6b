import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A tenant. */
@Entity({ name: 'accounts' })
export class AccountEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text') name: string;
  @Column('text') slug: string;
  @Column('uuid', { name: 'owner_user_id' }) ownerUserId: string;
  @Column('text') locale: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
