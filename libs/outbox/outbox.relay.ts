import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource, IsNull, Not, type EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { eventSubject } from '#libs/contracts/index.js';
import { ensureEventsStream, LOGGER, NATS_LINK, publishEvent, WakeablePause, type NatsLink } from '#libs/platform/index.js';
import { OutboxEntity } from './outbox.entity.js';
import { outboxMetrics, readOutboxOnScrape } from './outbox-metrics.js';
import { classifyPublishFailure, describePublishFailure, noStreamTakesSubject, OUTBOX_MAX_ATTEMPTS, type PublishFailure } from './publish-failure.js';

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
  /** Rows set aside: JetStream refuses them for good; later rows no longer wait for them. */
  setAside: number;
}

/** A row whose publish failed, and why. */
interface FailedRow {
  row: OutboxEntity;
  error: unknown;
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
 *
 * A failure of NATS or the stream (see {@link classifyPublishFailure}) is retried for ever, the row
 * keeping its place. A row refused for what it is (over the stream's maximum message size or the
 * server's maximum payload, a subject NATS does not accept) is set aside at once: kept, with its
 * error and attempt count, no longer taken, logged once at error level; later rows go on. A row
 * refused for another reason, or whose subject no stream takes (no responders) while the stream
 * takes others, is set aside after {@link OUTBOX_MAX_ATTEMPTS} such failures, each counted only in
 * a pass where the stream stored other rows (a failure of every row is the stream's, not the row's);
 * when a whole batch fails so (a burst of one such type at the head of the outbox), a batch of rows
 * of other types behind it is published in the same pass, which tells the two apart and keeps later
 * events moving.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private stopped = false;
  private readonly pausing = new WakeablePause();
  private nudged = false;
  private loop: Promise<void> | undefined;
  private stopReading: (() => void) | undefined;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.stopReading = readOutboxOnScrape(this.dataSource);
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopReading?.();
    this.stopped = true;
    this.pausing.wake();
    await this.loop;
  }

  /** Asks the relay to look at the outbox now (after a commit) rather than at its next poll. */
  nudge(): void {
    this.nudged = true;
    this.pausing.wake();
  }

  /** Publishes one batch, deletes the rows JetStream stored and sets aside those it refuses for good. */
  async pass(): Promise<RelayPass> {
    const pass = await this.dataSource.transaction(async (manager): Promise<RelayPass> => {
      const rows = await takeBatch(manager);
      if (rows.length === 0) return { moved: 0, failed: 0, setAside: 0 };
      const { stored, failures } = await this.publishRows(manager, rows);
      // Nothing of the batch stored, some of it for what may be the rows' own fault: do rows of other types get through?
      const others = stored.length === 0 && failures.some(mayBeTheRows) ? await this.publishOtherTypes(manager, rows) : 0;
      const setAside = await this.countFailures(manager, failures, stored.length + others > 0);
      const failed = failures.length - setAside.length;
      const retried = failures.find(({ row }) => !setAside.includes(row.id));
      if (retried) this.logger.warn({ err: retried.error, failed }, 'Outbox relay could not publish some events; will retry');
      return { moved: stored.length + others, failed, setAside: setAside.length };
    });
    outboxMetrics.published.inc(pass.moved);
    outboxMetrics.failed.inc(pass.failed);
    outboxMetrics.setAside.inc(pass.setAside);
    return pass;
  }

  /** Publishes `rows` at once and deletes those JetStream stored; answers those and the failures. */
  private async publishRows(manager: EntityManager, rows: OutboxEntity[]): Promise<{ stored: string[]; failures: FailedRow[] }> {
    const results = await Promise.allSettled(rows.map((row) => publishEvent(this.link, eventSubject(row.type), row.payload)));
    const stored = rows.filter((_, index) => results[index].status === 'fulfilled').map((row) => row.id);
    if (stored.length > 0) await manager.delete(OutboxEntity, stored);
    const failures = rows.flatMap((row, index): FailedRow[] => {
      const result = results[index];
      return result.status === 'rejected' ? [{ row, error: result.reason }] : [];
    });
    return { stored, failures };
  }

  /**
   * A batch whose every row failed may be one type the stream does not take (a burst of it at the
   * head of the outbox), or the stream itself: the oldest rows of the other types, a batch of them,
   * are published too, so that later events do not wait behind that burst. Should the stream store
   * any, the batch's failures are the rows' own and are counted (set aside at the last); otherwise
   * those rows wait as the batch does. Answers how many it stored (and deleted).
   */
  private async publishOtherTypes(manager: EntityManager, batch: OutboxEntity[]): Promise<number> {
    const others = await takeBatch(manager, [...new Set(batch.map((row) => row.type))]);
    if (others.length === 0) return 0;
    return (await this.publishRows(manager, others)).stored.length;
  }

  /**
   * Records on their rows the failures that are the rows' own (not NATS's or the stream's) and sets
   * aside the rows refused for good; answers the ids set aside.
   */
  private async countFailures(manager: EntityManager, failures: FailedRow[], streamStoredOthers: boolean): Promise<string[]> {
    const setAside: string[] = [];
    for (const { row, error } of failures) {
      const failure = classifyPublishFailure(error);
      if (!countsAgainstRow(failure, error, streamStoredOthers)) continue;
      const attempts = row.attempts + 1;
      const giveUp = failure === 'refused' || attempts >= OUTBOX_MAX_ATTEMPTS;
      await manager.update(OutboxEntity, row.id, { attempts, lastError: describePublishFailure(error), ...(giveUp ? { setAsideAt: () => 'now()' } : {}) });
      if (!giveUp) continue;
      setAside.push(row.id);
      this.logger.error(
        { err: error, outboxId: row.id, type: row.type, attempts },
        'Outbox row set aside: JetStream refuses it, later events are published without it (re-drive or delete it: docs/deploy.md, section 9)',
      );
    }
    return setAside;
  }

  /** Says at start how many rows are set aside, if any: they wait for an operator. */
  private async reportSetAside(): Promise<void> {
    const count = await this.dataSource.getRepository(OutboxEntity).countBy({ setAsideAt: Not(IsNull()) });
    if (count > 0)
      this.logger.warn({ setAside: count }, 'Outbox rows are set aside (JetStream refused them); re-drive or delete them (docs/deploy.md, section 9)');
  }

  private async run(): Promise<void> {
    await this.reportSetAside().catch((error: unknown) => this.logger.warn({ err: error }, 'Outbox relay could not count the rows set aside'));
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
        pass = { moved: 0, failed: 1, setAside: 0 };
      }
      errors = pass.failed > 0 ? errors + 1 : 0;
      // The stream may be what is missing (a NATS that lost its store): made again before the next try.
      if (pass.failed > 0) streamReady = false;
      if (this.stopped) break;
      if (errors > 0) await this.sleep(Math.min(MAX_ERROR_PAUSE_MS, 250 * 2 ** Math.min(errors, 6)));
      // A full batch (stored or set aside) may have more behind it: the next pass follows at once.
      else if (pass.moved + pass.setAside < OUTBOX_BATCH && !this.nudged) await this.sleep(IDLE_POLL_MS);
    }
  }

  private sleep(ms: number): Promise<void> {
    return this.pausing.wait(ms);
  }
}

/**
 * The oldest rows not set aside, a batch of them, locked for this pass (`FOR UPDATE SKIP LOCKED`:
 * another replica's pass takes others); none of the types in `butTypes`, when given.
 */
function takeBatch(manager: EntityManager, butTypes?: string[]): Promise<OutboxEntity[]> {
  const query = manager.createQueryBuilder(OutboxEntity, 'o').where('o.set_aside_at IS NULL');
  if (butTypes) query.andWhere('o.type <> ALL(:types)', { types: butTypes });
  return query.orderBy('o.created_at').addOrderBy('o.id').limit(OUTBOX_BATCH).setLock('pessimistic_write').setOnLocked('skip_locked').getMany();
}

/** Whether a failed publish may be its row's own fault, should the stream store other rows (see {@link countsAgainstRow}). */
function mayBeTheRows({ error }: FailedRow): boolean {
  return countsAgainstRow(classifyPublishFailure(error), error, true);
}

/**
 * Whether a failed publish counts against its row: a refusal of the row itself always; an
 * unexplained refusal, or no stream taking the row's subject, only in a pass where the stream
 * stored other rows (else it may be the stream's or the server's state, not the row).
 */
function countsAgainstRow(failure: PublishFailure, error: unknown, streamStoredOthers: boolean): boolean {
  if (failure === 'refused') return true;
  if (!streamStoredOthers) return false;
  return failure === 'unexplained' || noStreamTakesSubject(error);
}
