import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { isUUID } from 'class-validator';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import {
  Events,
  eventSubject,
  PRINCIPAL_TYPES,
  type EventEnvelope,
  type PrincipalActivityChange,
  type PrincipalActivityChangedData,
  DurableConsumers,
} from '#libs/contracts/index.js';
import { DurableConsumer, LOGGER, NATS_LINK, PermanentEventError, type NatsLink } from '#libs/platform/index.js';
import { withCanonicalIds } from '../state/event-ids.js';
import { AccessStateService } from '../state/access-state.service.js';
import { appliedBefore, firstTimeInOpenAccount } from '../state/applied-events.js';

/**
 * The durable consumer of identity's activity events. A name of its own, apart from `access` (which
 * takes the other identity events): created by the first release that knows these events, it reads
 * every one the stream holds, also those an older release acknowledged without applying.
 */
export const PRINCIPALS_CONSUMER = DurableConsumers.Principals;

/**
 * Keeps, for each principal of the event ($2: its changes as JSON), the newer of the stored and the
 * event's activity (a principal named twice counts by its latest change).
 */
const APPLY_ACTIVITY_SQL = `INSERT INTO principal_activity (account_id, principal_type, principal_id, active, changed_at)
  SELECT DISTINCT ON ("principalType", "principalId") $1::uuid, "principalType", "principalId", active, "changedAt"
    FROM jsonb_to_recordset($2::jsonb) AS c("principalType" text, "principalId" uuid, active boolean, "changedAt" timestamptz)
   ORDER BY "principalType", "principalId", "changedAt" DESC
  ON CONFLICT (account_id, principal_type, principal_id) DO UPDATE SET active = EXCLUDED.active, changed_at = EXCLUDED.changed_at
  WHERE principal_activity.changed_at < EXCLUDED.changed_at`;

/** An instant as identity writes it: ISO 8601 in UTC, up to microseconds. */
const ISO_INSTANT = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,6})?Z$/;

/** Learns from identity which members and subusers are deactivated in their accounts: checks refuse them everything there. */
@Injectable()
export class PrincipalsService implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: DurableConsumer | undefined;

  constructor(
    private readonly state: AccessStateService,
    private readonly dataSource: DataSource,
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new DurableConsumer({
      link: this.link,
      durableName: PRINCIPALS_CONSUMER,
      filterSubject: eventSubject(Events.PrincipalActivityChanged),
      logger: this.logger,
      handle: (event) => this.applyActivity(event as EventEnvelope<typeof Events.PrincipalActivityChanged>),
    });
    await this.consumer.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
  }

  /**
   * Applies an event's deactivations and reactivations once, as one change of the account (one
   * transaction, the account's version raised once, every replica and gateway told once), each
   * only over an older change of the same principal (`changedAt`: events may come again, or in
   * either order). A malformed event is dropped (it would fail every delivery).
   */
  async applyActivity(event: EventEnvelope<typeof Events.PrincipalActivityChanged>): Promise<void> {
    if (!isActivityData(event.data)) throw new PermanentEventError('An activity event without a valid account, principals, active flags or times');
    // Lower-cased, as every subject of access takes ids (the account's lock and its key in memory).
    const data = { ...withCanonicalIds(event.data, ['accountId']), changes: event.data.changes.map((change) => withCanonicalIds(change, ['principalId'])) };
    if (await appliedBefore(this.dataSource.manager, event.id)) return;
    await this.state.mutate(
      data.accountId,
      async (manager) => {
        if (!(await firstTimeInOpenAccount(manager, event.id, data.accountId))) return;
        await manager.query(APPLY_ACTIVITY_SQL, [data.accountId, JSON.stringify(data.changes)]);
      },
      // The gateways drop the decisions of that principal only, or of the whole account.
      data.changes.length === 1 ? data.changes[0].principalId : undefined,
    );
  }
}

/** Whether the payload is one this service can apply (access validates what it is sent, whoever sent it). */
export function isActivityData(data: Partial<PrincipalActivityChangedData> | null | undefined): data is PrincipalActivityChangedData {
  return (
    typeof data?.accountId === 'string' &&
    isUUID(data.accountId) &&
    Array.isArray(data.changes) &&
    data.changes.length > 0 &&
    data.changes.every(isActivityChange)
  );
}

function isActivityChange(change: Partial<PrincipalActivityChange> | null | undefined): boolean {
  return (
    PRINCIPAL_TYPES.includes(change?.principalType as never) &&
    typeof change?.principalId === 'string' &&
    isUUID(change.principalId) &&
    typeof change.active === 'boolean' &&
    isIsoInstant(change.changedAt)
  );
}

/** Strictly `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, and a real date and time (not 30 February, nor 24:00). */
export function isIsoInstant(value: unknown): boolean {
  const match = typeof value === 'string' ? ISO_INSTANT.exec(value) : null;
  if (!match) return false;
  const time = Date.parse(`${match[1]}Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(match[1]);
}
