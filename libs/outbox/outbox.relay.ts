import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { eventSubject } from '#libs/contracts/index.js';
import { ensureEventsStream, LOGGER, NATS_LINK, publishEvent, WakeablePause, type NatsLink } from '#libs/platform/index.js';
import { OutboxEntity } from './outbox.entity.js';

/** Rows taken (and locked) at once. */
export const OUTBOX_BATCH = 100;
const IDLE_POLL_MS = 1000;
const MAX_ERROR_PAUSE_MS = 10_000;

/** What one pass over the outbox did. */
export interface RelayPass {
  /** Rows JetStream stored (and that were then deleted). */
  moved: number;
  /** Rows whose publish failed; they stay for the next pass. */
  failed: number;
}

/**
 * Moves the rows of the service's outbox (its own schema, through its DataSource) to JetStream;
 * every service that writes events runs one. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so replicas
 * never publish the same row at once; a row is deleted, in the same transaction, once JetStream
 * acknowledged storing it (deleted rather than flagged, so plain link tokens do not linger). The
 * outbox id is the JetStream message id: a row published again after a crash between the
 * publish and the commit is dropped by the stream's duplicate window (and, beyond it, by each
 * consumer's own record of the events it handled). A batch is published concurrently; rows whose
 * publish failed stay locked until the transaction ends and are taken again by the next pass.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private stopped = false;
  private readonly pausing = new WakeablePause();
  private nudged = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.pausing.wake();
    await this.loop;
  }

  /** Asks the relay to look at the outbox now (after a commit) rather than at its next poll. */
  nudge(): void {
    this.nudged = true;
    this.pausing.wake();
  }

  /** Publishes one batch and deletes the rows JetStream stored. */
  async pass(): Promise<RelayPass> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager
        .createQueryBuilder(OutboxEntity, 'o')
        .orderBy('o.created_at')
        .addOrderBy('o.id')
        .limit(OUTBOX_BATCH)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      if (rows.length === 0) return { moved: 0, failed: 0 };
      const results = await Promise.allSettled(rows.map((row) => publishEvent(this.link, eventSubject(row.type), row.payload)));
      const stored = rows.filter((_, index) => results[index].status === 'fulfilled').map((row) => row.id);
      const firstFailure = results.find((result) => result.status === 'rejected');
      if (firstFailure)
        this.logger.warn({ err: firstFailure.reason, failed: rows.length - stored.length }, 'Outbox relay could not publish some events; will retry');
      if (stored.length > 0) await manager.delete(OutboxEntity, stored);
      return { moved: stored.length, failed: rows.length - stored.length };
    });
  }

  private async run(): Promise<void> {
    let errors = 0;
    let streamReady = false;
    while (!this.stopped) {
      this.nudged = false;
      let pass: RelayPass;
      try {
        if (!streamReady) await ensureEventsStream(this.link);
        streamReady = true;
        pass = await this.pass();
      } catch (error) {
        this.logger.warn({ err: error }, 'Outbox relay pass failed; will retry');
        pass = { moved: 0, failed: 1 };
      }
      errors = pass.failed > 0 ? errors + 1 : 0;
      // The stream may be what is missing (a NATS that lost its store): made again before the next try.
      if (pass.failed > 0) streamReady = false;
      if (this.stopped) break;
      if (errors > 0) await this.sleep(Math.min(MAX_ERROR_PAUSE_MS, 250 * 2 ** Math.min(errors, 6)));
      else if (pass.moved < OUTBOX_BATCH && !this.nudged) await this.sleep(IDLE_POLL_MS);
    }
  }

  private sleep(ms: number): Promise<void> {
    return this.pausing.wait(ms);
  }
}
