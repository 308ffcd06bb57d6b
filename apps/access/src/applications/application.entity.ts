import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A named thing inside an account; application-scoped sections apply per application. */
@Entity({ name: 'applications' })
export class ApplicationEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'account_id' }) accountId: string;
  @Column('text') name: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
