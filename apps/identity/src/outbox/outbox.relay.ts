import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { eventSubject } from '#libs/contracts/index.js';
import { ensureEventsStream, LOGGER, NATS_LINK, publishEvent, type NatsLink } from '#libs/platform/index.js';
import { OutboxEntity } from './outbox.entity.js';

const BATCH = 100;
const IDLE_POLL_MS = 1000;

/**
 * Moves outbox rows to JetStream. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so replicas
 * never publish the same row at once; the outbox id is the JetStream message id, so a row
 * published again after a crash is dropped as a duplicate. A row is deleted once stored.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await ensureEventsStream(this.link);
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** Asks the relay to look at the outbox now (after a commit) rather than at its next poll. */
  nudge(): void {
    this.wake?.();
  }

  /** Publishes one batch; returns how many rows it moved. */
  async relayBatch(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager
        .createQueryBuilder(OutboxEntity, 'o')
        .orderBy('o.created_at')
        .limit(BATCH)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      for (const row of rows) await publishEvent(this.link, eventSubject(row.type), row.payload);
      if (rows.length > 0)
        await manager.delete(
          OutboxEntity,
          rows.map((row) => row.id),
        );
      return rows.length;
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const moved = await this.relayBatch().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'Outbox relay could not publish; will retry');
        return 0;
      });
      if (moved < BATCH && !this.stopped) await this.sleep(moved === 0 ? IDLE_POLL_MS : 0);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
