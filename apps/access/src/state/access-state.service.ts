import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { ACCESS_CHANGED, type AccessChangedEvent } from '#libs/contracts/index.js';
import { LOGGER, NATS_LINK, type NatsLink } from '#libs/platform/index.js';
import { DecisionStore } from '../checks/decision-store.js';
import { AccessRepository } from './access-repository.js';

/**
 * Keeps the in-memory decision store current on every replica: loads everything at start; after a
 * change, reloads the account and broadcasts `access.changed` (before the change's reply leaves),
 * so every access replica reloads it and every gateway drops its cached decisions. A replica marks
 * the account as reloading the moment the broadcast arrives, and checks on it wait for the reload.
 */
@Injectable()
export class AccessStateService implements OnApplicationBootstrap, OnModuleDestroy {
  private subscription: Subscription | undefined;

  constructor(
    private readonly store: DecisionStore,
    private readonly repository: AccessRepository,
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = this.link.connection.subscribe(ACCESS_CHANGED, {
      callback: (error, message) => {
        if (error) return;
        const event = safeParse(message.string());
        if (event) void this.reload(event.accountId);
      },
    });
    for (const snapshot of await this.repository.loadAll()) this.store.replaceAccount(snapshot);
    const { accounts, principals } = this.store.size();
    this.logger.info({ accounts, principals }, 'Access decisions loaded');
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /** After a committed change: reload here, then tell every replica and gateway. */
  async changed(accountId: string, principalId?: string): Promise<void> {
    await this.reload(accountId);
    const event: AccessChangedEvent = principalId ? { accountId, principalId } : { accountId };
    this.link.connection.publish(ACCESS_CHANGED, JSON.stringify(event));
    await this.link.connection.flush();
  }

  private reload(accountId: string): Promise<void> {
    return this.store
      .refresh(accountId, () => this.repository.loadAccount(accountId))
      .catch((error: unknown) => {
        this.logger.error({ err: error, accountId }, 'Could not reload access data of an account');
      });
  }
}

function safeParse(text: string): AccessChangedEvent | undefined {
  try {
    const value = JSON.parse(text) as AccessChangedEvent;
    return typeof value.accountId === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
