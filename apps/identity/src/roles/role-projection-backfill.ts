import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { Subjects, type RoleHoldingsPage } from '#libs/contracts/index.js';
import { LOGGER, RpcClient, type RpcSender } from '#libs/platform/index.js';
import { heldRolesOf, RoleProjection } from './role-projection.js';

/** How the backfill pages and waits: `pageSize` principals a request; `retryMs` before trying again (access not answering yet, another replica at work). */
export interface BackfillPacing {
  pageSize: number;
  retryMs: number;
  /** How long a replica's claim lasts without a page done: one that stopped half-way is taken over after it. */
  leaseSeconds: number;
}

/** Pacing of the backfill at start-up. */
export const BACKFILL_PACING: BackfillPacing = { pageSize: 500, retryMs: 30_000, leaseSeconds: 120 };

/** What one attempt did: filled now, found filled already, or left it (another replica holds the claim). */
export type BackfillOutcome = 'filled' | 'already-filled' | 'claimed-elsewhere';

/**
 * Copies into the role projection the roles bound before it existed (an install upgraded to this
 * release), once: at start, a replica that finds it never filled claims it (a lease in
 * `role_projection_backfill`, renewed each page), asks access for every principal's roles a page at
 * a time (`access.role-holdings.page`) and applies each as an event of that version would be, then
 * marks it filled. Replicas starting together: one claims, the others try again later (and find it
 * filled). A page applied twice (a replica that stopped, its lease taken over) changes nothing, and
 * no page undoes an event applied meanwhile: each principal keeps the higher version. Until filled,
 * the `role` filter misses roles bound before the upgrade and not changed since.
 */
@Injectable()
export class RoleProjectionBackfill implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The attempt under way, if any. */
  private running: Promise<void> | undefined;
  private readonly pacing = BACKFILL_PACING;

  constructor(
    private readonly dataSource: DataSource,
    private readonly projection: RoleProjection,
    @Inject(RpcClient) private readonly rpc: RpcSender,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Starts in the background: identity serves meanwhile (access may not answer yet during a rollout). */
  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  /** Stops trying; an attempt under way stops after its page and gives its claim back (another replica need not wait for the lease to run out). */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Fills the projection if it never was and no other replica is at it (see the class). */
  async fillOnce(pacing: BackfillPacing = this.pacing): Promise<BackfillOutcome> {
    let lease = await this.claim(pacing.leaseSeconds);
    if (!lease) return (await this.isFilled()) ? 'already-filled' : 'claimed-elsewhere';
    try {
      let cursor: string | null = null;
      let principals = 0;
      do {
        const page: RoleHoldingsPage = await this.rpc.send(Subjects.AccessRoleHoldingsPage, { cursor, limit: pacing.pageSize });
        await this.projection.applyAll(page.items.map(heldRolesOf));
        principals += page.items.length;
        cursor = page.nextCursor;
        lease = await this.claim(pacing.leaseSeconds, lease);
        if (!lease) return 'claimed-elsewhere';
      } while (cursor !== null && !this.stopped);
      if (cursor !== null) return 'claimed-elsewhere';
      await this.dataSource.query('UPDATE role_projection_backfill SET filled_at = now(), lease_until = NULL');
      lease = null;
      this.logger.info({ principals }, 'Role projection filled from access');
      return 'filled';
    } finally {
      // Stopped or failed half-way: the claim goes back at once (if still this replica's).
      if (lease) await this.dataSource.query('UPDATE role_projection_backfill SET lease_until = NULL WHERE lease_until = $1::timestamptz', [lease]);
    }
  }

  /**
   * Takes the claim on the backfill (or, given the `held` lease, renews it), answering the new
   * lease's end (as text: to the microsecond, as it is compared): null once it is filled, while
   * another replica's lease runs, or when this one's was taken over.
   */
  private async claim(leaseSeconds: number, held?: string): Promise<string | null> {
    const free = held ? 'lease_until = $2::timestamptz' : '(lease_until IS NULL OR lease_until < now())';
    const [rows] = await this.dataSource.query<[Array<{ lease: string }>, number]>(
      `UPDATE role_projection_backfill SET lease_until = clock_timestamp() + make_interval(secs => $1)
        WHERE filled_at IS NULL AND ${free} RETURNING lease_until::text AS lease`,
      held ? [leaseSeconds, held] : [leaseSeconds],
    );
    return rows[0]?.lease ?? null;
  }

  private async isFilled(): Promise<boolean> {
    const [row] = await this.dataSource.query<Array<{ filled: boolean }>>('SELECT filled_at IS NOT NULL AS filled FROM role_projection_backfill');
    return row?.filled ?? false;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      if (!this.stopped) this.running = this.attempt();
    }, delayMs);
    this.timer.unref();
  }

  /** One attempt; again after `retryMs` unless the projection is filled. */
  private async attempt(): Promise<void> {
    const outcome = await this.fillOnce().catch((error: unknown) => {
      this.logger.warn({ err: error, retryInMs: this.pacing.retryMs }, 'Role projection backfill failed; it will be tried again');
      return 'failed' as const;
    });
    if (outcome !== 'filled' && outcome !== 'already-filled') this.schedule(this.pacing.retryMs);
  }
}
