import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An event from identity that access has applied (so a redelivery changes nothing). */
@Entity({ name: 'applied_events' })
export class AppliedEventEntity {
  @PrimaryColumn('uuid', { name: 'event_id' }) eventId: string;
  @CreateDateColumn({ name: 'applied_at', type: 'timestamptz' }) appliedAt: Date;
}
