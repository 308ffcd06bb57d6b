import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Clock, LOGGER } from '#libs/platform/index.js';
import { ThrottleService } from '../credentials/throttle.service.js';

const EVERY_MS = 3600_000;
const DAY_MS = 86_400_000;
const BATCH = 5000;

/**
 * Hourly, on any replica (every step is idempotent): forgets throttling counters idle for a day,
 * sessions over for a day (their retired refresh tokens go with them), link tokens a month old,
 * and request keys a day old (a create is sent again within seconds: request-keys.ts). Sessions,
 * tokens and keys go in batches so that no lock is held long; throttling counters in one
 * statement that skips any counter a sign-in holds (ThrottleService.prune).
 */
@Injectable()
export class Housekeeping implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly throttle: ThrottleService,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One pass; returns what it removed. */
  async sweep(): Promise<{ counters: number; sessions: number; tokens: number; challenges: number; requestKeys: number }> {
    try {
      const now = this.clock.now().getTime();
      const counters = await this.throttle.prune();
      const sessions = await this.inBatches(`DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < $1 LIMIT ${BATCH})`, [
        new Date(now - DAY_MS),
      ]);
      const tokens = await this.inBatches(`DELETE FROM action_tokens WHERE id IN (SELECT id FROM action_tokens WHERE created_at < $1 LIMIT ${BATCH})`, [
        new Date(now - 30 * DAY_MS),
      ]);
      // Sign-in challenges live minutes and are never mailed: gone a day after they expire.
      const challenges = await this.inBatches(
        `DELETE FROM action_tokens WHERE id IN (SELECT id FROM action_tokens WHERE purpose = 'sign-in' AND expires_at < $1 LIMIT ${BATCH})`,
        [new Date(now - DAY_MS)],
      );
      const requestKeys = await this.inBatches(`DELETE FROM request_keys WHERE key IN (SELECT key FROM request_keys WHERE created_at < $1 LIMIT ${BATCH})`, [
        new Date(now - DAY_MS),
      ]);
      if (counters + sessions + tokens + challenges + requestKeys > 0)
        this.logger.info({ counters, sessions, tokens, challenges, requestKeys }, 'Housekeeping removed what is no longer needed');
      return { counters, sessions, tokens, challenges, requestKeys };
    } catch (error) {
      this.logger.warn({ err: error }, 'Housekeeping failed; it will run again');
      return { counters: 0, sessions: 0, tokens: 0, challenges: 0, requestKeys: 0 };
    }
  }

  private async inBatches(sql: string, parameters: unknown[]): Promise<number> {
    let total = 0;
    for (;;) {
      const [, removed] = await this.dataSource.query<[unknown, number]>(sql, parameters);
      total += removed;
      if (removed < BATCH) return total;
    }
  }
}
