import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Events, IDENTITY_EVENTS, type AccountCreatedData, type EventEnvelope } from '#libs/contracts/index.js';
import { DurableConsumer, LOGGER, NATS_LINK, type NatsLink } from '#libs/platform/index.js';
import { BindingEntity } from '../bindings/binding.entity.js';
import { DecisionStore } from '../checks/decision-store.js';
import { AccessStateService } from '../state/access-state.service.js';
import { AccountOwnerEntity } from './account-owner.entity.js';

/** Learns account owners, and hand-overs, from identity's durable events (the owner holds every permission of the account). */
@Injectable()
export class OwnersService implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: DurableConsumer | undefined;

  constructor(
    private readonly state: AccessStateService,
    private readonly store: DecisionStore,
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new DurableConsumer({
      link: this.link,
      durableName: 'access',
      filterSubject: IDENTITY_EVENTS,
      logger: this.logger,
      handle: async (event) => {
        if (event.type === Events.AccountCreated) await this.apply(event as EventEnvelope<typeof Events.AccountCreated>);
        if (event.type === Events.OwnershipTransferred) await this.applyTransfer(event as EventEnvelope<typeof Events.OwnershipTransferred>);
      },
    });
    await this.consumer.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
  }

  /** Applies an account-created event once (a redelivered event is recognised and skipped). */
  async apply(event: EventEnvelope<typeof Events.AccountCreated>): Promise<void> {
    const data: AccountCreatedData = event.data;
    await this.state.mutate(data.accountId, async (manager) => {
      if (!(await firstTime(manager, event.id))) return;
      await manager.createQueryBuilder().insert().into(AccountOwnerEntity).values({ accountId: data.accountId, userId: data.ownerUserId }).orIgnore().execute();
    });
  }

  /**
   * Applies a hand-over once: the new owner holds everything, and the previous owner now holds
   * `previousOwnerRole` in every application instead of whatever bindings they had. A role deleted
   * since the gateway checked it leaves their bindings as they were (logged).
   */
  async applyTransfer(event: EventEnvelope<typeof Events.OwnershipTransferred>): Promise<void> {
    const { accountId, fromUserId, toUserId, previousOwnerRole } = event.data;
    await this.state.mutate(accountId, async (manager) => {
      if (!(await firstTime(manager, event.id))) return;
      await manager
        .createQueryBuilder()
        .insert()
        .into(AccountOwnerEntity)
        .values({ accountId, userId: toUserId })
        .orUpdate(['user_id'], ['account_id'])
        .execute();
      const role = this.store.role(accountId, previousOwnerRole);
      if (!role) {
        this.logger.warn({ accountId, previousOwnerRole }, 'The role the previous owner was to keep no longer exists; their bindings are left as they were');
        return;
      }
      const principal = { accountId, principalType: 'user' as const, principalId: fromUserId };
      await manager.delete(BindingEntity, principal);
      await manager.insert(BindingEntity, { id: randomUUID(), ...principal, roleId: role.id, applicationIds: null });
    });
  }
}

/** Whether the event is seen for the first time (recorded as applied in the same transaction). */
async function firstTime(manager: EntityManager, eventId: string): Promise<boolean> {
  const fresh: unknown[] = await manager.query(`INSERT INTO applied_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING event_id`, [eventId]);
  return fresh.length > 0;
}
