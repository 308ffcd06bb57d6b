import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG, LOGGER } from '#libs/platform/index.js';
import type { NotificationsConfig } from '../notifications.config.js';
import { DeliveryStore } from './delivery.store.js';

const EVERY_MS = 5 * 60 * 1000;

/** Drops rate-limit counters that left the window, and voided links no event can carry any more (any replica may; it is idempotent). */
@Injectable()
export class DeliveryPruner implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: DeliveryStore,
    @Inject(CONFIG) private readonly config: NotificationsConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune(), EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async prune(): Promise<void> {
    await this.store.pruneRateBuckets(this.config.MAIL_RATE_WINDOW_MINUTES).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'Could not prune the mail rate counters; will try again');
    });
    await this.store.pruneVoidedLinks().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'Could not prune the voided links; will try again');
    });
  }
}
