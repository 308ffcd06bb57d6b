import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { ACCESS_EVENTS, type BindingsReplacedData, type EventEnvelope, DurableConsumers, Events } from '#libs/contracts/index.js';
import { DurableConsumer, LOGGER, NATS_LINK, PermanentEventError, RetryEventLaterError, UnknownEventTypes, type NatsLink } from '#libs/platform/index.js';
import { auditOfAccessEvent } from './access-audit.js';
import { AuditService, type EventAuditEntry } from './audit.service.js';
import { heldRolesAfter, RoleProjection } from '../roles/role-projection.js';

/** The durable JetStream consumer (shared by identity's replicas) that records access's changes. */
export const ACCESS_AUDIT_CONSUMER = DurableConsumers.AccessAudit;

/** How long an `access.*` event of a type this release does not know waits before it is delivered again (until identity is upgraded). */
export const UNKNOWN_ACCESS_EVENT_RETRY_MS = 5 * 60 * 1000;

/** SQLSTATE class of data exceptions: the same row would be refused on every delivery. */
const DATA_EXCEPTION = '22';

/**
 * Records access's changes of roles and applications in the account's audit trail, and applies
 * changes of bindings to the role projection (RoleProjection), from the
 * events access writes in each change's transaction (none for a change that rolled back). An
 * event is acknowledged once its row is written, and written once however often it is delivered.
 */
@Injectable()
export class AccessAuditConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: DurableConsumer | undefined;
  private readonly unknownTypes: UnknownEventTypes;

  constructor(
    private readonly audit: AuditService,
    private readonly roles: RoleProjection,
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.unknownTypes = new UnknownEventTypes(logger, 'Access events of a type this release does not know are kept for a newer identity');
  }

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new DurableConsumer({
      link: this.link,
      durableName: ACCESS_AUDIT_CONSUMER,
      filterSubject: ACCESS_EVENTS,
      logger: this.logger,
      handle: (event) => this.record(event),
    });
    await this.consumer.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
  }

  /**
   * Writes the event's audit row, unless written already. An event that could never be recorded
   * is dropped (logged as an error); one of an `access.*` type this release does not know is kept
   * and delivered again every few minutes (logged once per type), to be recorded after an upgrade.
   */
  async record(event: EventEnvelope): Promise<void> {
    const audit = auditOfAccessEvent(event);
    switch (audit.kind) {
      case 'unknown':
        this.unknownTypes.note(event.type, { retryInMs: UNKNOWN_ACCESS_EVENT_RETRY_MS });
        throw new RetryEventLaterError(`Unknown access event type ${event.type}`, UNKNOWN_ACCESS_EVENT_RETRY_MS);
      case 'refused':
        throw new PermanentEventError(`An access event the audit trail cannot record (${audit.reason})`);
      case 'entry':
        await this.applyAndRecord(event, audit.entry).catch((error: unknown) => {
          if (isDataException(error)) throw new PermanentEventError('PostgreSQL refuses the audit row of an access event', { cause: error });
          throw error;
        });
    }
  }

  /** A change of bindings goes to the role projection first (which keeps only the latest of a principal's), then the audit row: each done once however often the event comes. */
  private async applyAndRecord(event: EventEnvelope, entry: EventAuditEntry): Promise<void> {
    if (event.type === Events.BindingsReplaced) await this.roles.apply(heldRolesAfter(event.data as BindingsReplacedData));
    await this.audit.recordEvent(entry);
  }
}

function isDataException(error: unknown): boolean {
  const failure = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = failure?.code ?? failure?.driverError?.code;
  return typeof code === 'string' && code.startsWith(DATA_EXCEPTION);
}
