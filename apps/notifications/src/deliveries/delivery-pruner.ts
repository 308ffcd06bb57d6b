import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG, LOGGER, WakeablePause } from '#libs/platform/index.js';
import type { NotificationsConfig } from '../notifications.config.js';
import { DeliveryStore } from './delivery.store.js';
import { countUnattempted } from './mail-metrics.js';

const EVERY_MS = 5 * 60 * 1000;
/** Delivery records one statement deletes at most: each statement holds its row locks only briefly. */
export const DELIVERY_PRUNE_BATCH = 1000;

/**
 * Deletes what notifications no longer needs, as the service starts and then 5 minutes after each
 * pass: rate-limit counters that left the window, voided links no event can carry any more, and
 * (once mails whose event is gone are marked dead) the delivery log's lines of mails done recorded more than DELIVERY_RETENTION_DAYS ago (the
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
    await this.abandonOrphans();
    return this.pruneDeliveryLog();
  }

  /** Marks dead the mails whose event left the stream before they were done (see DeliveryStore.abandonOrphans). */
  private async abandonOrphans(): Promise<void> {
    const { count: abandoned, error } = await this.inBatches((limit) => this.store.abandonOrphans(limit));
    if (error) this.logger.warn({ err: error, abandoned }, 'Could not mark the mails whose event is gone; will try again');
    countUnattempted('dead', abandoned);
    if (abandoned > 0)
      this.logger.warn({ abandoned }, 'Marked dead the mails still pending or being sent whose event left the events stream: they may not have been sent');
  }

  private async pruneDeliveryLog(): Promise<number> {
    const retentionDays = this.config.DELIVERY_RETENTION_DAYS;
    const { count: deleted, error } = await this.inBatches((limit) => this.store.pruneDeliveryLog(retentionDays, limit));
    if (error) this.logger.warn({ err: error, deleted }, 'Could not prune the delivery log; will try again');
    if (deleted > 0) this.logger.info({ deleted, retentionDays }, 'Deleted the delivery log lines past their retention (DELIVERY_RETENTION_DAYS)');
    return deleted;
  }

  /**
   * Runs `statement` ({@link DELIVERY_PRUNE_BATCH} lines at most) again while it takes a full batch
   * and the service is not stopping: the lines it took in all, and the error that ended it early.
   */
  private async inBatches(statement: (limit: number) => Promise<number>): Promise<{ count: number; error?: unknown }> {
    let count = 0;
    try {
      let more = !this.stopped;
      while (more) {
        const batch = await statement(DELIVERY_PRUNE_BATCH);
        count += batch;
        more = batch === DELIVERY_PRUNE_BATCH && !this.stopped;
      }
    } catch (error) {
      return { count, error };
    }
    return { count };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.prune();
      if (!this.stopped) await this.pausing.wait(EVERY_MS);
    }
  }
}
