import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG, LOGGER, WakeablePause } from '#libs/platform/index.js';
import type { NotificationsConfig } from '../notifications.config.js';
import { DeliveryStore } from './delivery.store.js';

const EVERY_MS = 5 * 60 * 1000;
/** Delivery records one statement deletes at most: each statement holds its row locks only briefly. */
export const DELIVERY_PRUNE_BATCH = 1000;

/**
 * Deletes what notifications no longer needs, as the service starts and then 5 minutes after each
 * pass: rate-limit counters that left the window, voided links no event can carry any more, and
 * the delivery log's lines of mails done recorded more than DELIVERY_RETENTION_DAYS ago (the
 * recipient's address with them), {@link DELIVERY_PRUNE_BATCH} per statement until none is left.
 * Any replica may (each step is idempotent, and replicas pruning the log at once skip the lines the
 * other holds). On shutdown it stops after the statement under way.
 */
@Injectable()
export class DeliveryPruner implements OnApplicationBootstrap, OnModuleDestroy {
  private stopped = false;
  private readonly pausing = new WakeablePause();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly store: DeliveryStore,
    @Inject(CONFIG) private readonly config: Pick<NotificationsConfig, 'MAIL_RATE_WINDOW_MINUTES' | 'DELIVERY_RETENTION_DAYS'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  /** Stops the pruning: waits for the statement under way, starts no other. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.pausing.wake();
    await this.loop;
  }

  /** One pass; returns how many lines of the delivery log it deleted. Failures are logged, and the next pass tries again. */
  async prune(): Promise<number> {
    await this.store.pruneRateBuckets(this.config.MAIL_RATE_WINDOW_MINUTES).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'Could not prune the mail rate counters; will try again');
    });
    await this.store.pruneVoidedLinks().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'Could not prune the voided links; will try again');
    });
    return this.pruneDeliveryLog();
  }

  private async pruneDeliveryLog(): Promise<number> {
    const retentionDays = this.config.DELIVERY_RETENTION_DAYS;
    let deleted = 0;
    try {
      let more = !this.stopped;
      while (more) {
        const batch = await this.store.pruneDeliveryLog(retentionDays, DELIVERY_PRUNE_BATCH);
        deleted += batch;
        more = batch === DELIVERY_PRUNE_BATCH && !this.stopped;
      }
    } catch (error) {
      this.logger.warn({ err: error, deleted }, 'Could not prune the delivery log; will try again');
    }
    if (deleted > 0) this.logger.info({ deleted, retentionDays }, 'Deleted the delivery log lines past their retention (DELIVERY_RETENTION_DAYS)');
    return deleted;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.prune();
      if (!this.stopped) await this.pausing.wait(EVERY_MS);
    }
  }
}
