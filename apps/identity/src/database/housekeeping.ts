import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '#libs/platform/index.js';
import { ThrottleService } from '../credentials/throttle.service.js';

const EVERY_MS = 3600_000;

/** Drops throttling counters nobody touched for a day, hourly (any replica may do it; it is idempotent). */
@Injectable()
export class Housekeeping implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly throttle: ThrottleService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    try {
      const pruned = await this.throttle.prune();
      if (pruned > 0) this.logger.info({ pruned }, 'Forgot idle throttling counters');
    } catch (error) {
      this.logger.warn({ err: error }, 'Housekeeping failed; it will run again');
    }
  }
}
