import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { Events, IDENTITY_EVENTS, type AccountCreatedData, type EventEnvelope } from '#libs/contracts/index.js';
import { DurableConsumer, LOGGER, NATS_LINK, type NatsLink } from '#libs/platform/index.js';
import { AccessStateService } from '../state/access-state.service.js';
import { AccountOwnerEntity } from './account-owner.entity.js';

/** Learns account owners from identity's durable events (the owner holds every permission of the account). */
@Injectable()
export class OwnersService implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: DurableConsumer | undefined;

  constructor(
    private readonly state: AccessStateService,
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
      const fresh: unknown[] = await manager.query(`INSERT INTO applied_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING event_id`, [event.id]);
      if (fresh.length === 0) return;
      await manager.createQueryBuilder().insert().into(AccountOwnerEntity).values({ accountId: data.accountId, userId: data.ownerUserId }).orIgnore().execute();
    });
  }
}
