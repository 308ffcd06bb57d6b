import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { LOGGER } from '#libs/platform/index.js';
import { writeActivityChanges, type ActivityPrincipal } from './activity-events.js';

const EVERY_MS = 60_000;

/**
 * Forgets the announced principals that are active again and answers them, locked (a principal
 * that is gone stays: a previous-release pod may add it back, still without an event): their rows must be held before the event's time is read (see
 * writeActivityChanged). NOWAIT: a row a change holds fails the pass, retried a minute later,
 * rather than letting the sweep and a request wait for each other.
 */
const SETTLE_SQL = `
  WITH settled AS (
    DELETE FROM activity_announced a
     WHERE EXISTS (SELECT 1 FROM memberships m
                    WHERE a.principal_type = 'user' AND m.account_id = a.account_id AND m.user_id = a.principal_id AND m.active)
        OR EXISTS (SELECT 1 FROM subusers s
                    WHERE a.principal_type = 'subuser' AND s.id = a.principal_id AND s.account_id = a.account_id AND s.active)
    RETURNING a.account_id, a.principal_type, a.principal_id
  ), active_members AS (
    SELECT m.account_id, m.user_id FROM memberships m JOIN settled a ON a.principal_type = 'user' AND m.account_id = a.account_id AND m.user_id = a.principal_id
     WHERE m.active FOR SHARE OF m NOWAIT
  ), active_subusers AS (
    SELECT s.account_id, s.id FROM subusers s JOIN settled a ON a.principal_type = 'subuser' AND s.id = a.principal_id AND s.account_id = a.account_id
     WHERE s.active FOR SHARE OF s NOWAIT
  )
  SELECT account_id AS "accountId", 'user' AS "principalType", user_id AS "principalId" FROM active_members
  UNION ALL
  SELECT account_id, 'subuser', id FROM active_subusers`;

/**
 * Upgrade only. Migration 1733200000000 announced to access every principal inactive before the
 * rollout and kept them in `activity_announced`; the previous release, still serving during the
 * rollout, writes no event when it reactivates or re-adds one of them, and access would refuse
 * them for ever. At start and every minute, on any replica, one transaction forgets the announced
 * principals that are active again and tells access (`active: true`, the database's time, later
 * than the migration's). Rows of principals still inactive, or gone (a previous-release pod may
 * add one back), stay: one indexed query a minute. A later release drops the table and this sweep.
 */
@Injectable()
export class AnnouncedActivitySweep implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One pass; returns how many principals it told access are active again (0 when it failed: retried later). */
  async sweep(): Promise<number> {
    try {
      const told = await this.dataSource.transaction(async (manager) => {
        const active = await manager.query<Array<ActivityPrincipal & { accountId: string }>>(SETTLE_SQL);
        const byAccount = new Map<string, ActivityPrincipal[]>();
        for (const row of active) {
          const principals = byAccount.get(row.accountId) ?? [];
          principals.push(row);
          byAccount.set(row.accountId, principals);
        }
        for (const [accountId, principals] of byAccount) await writeActivityChanges(manager, this.outbox, accountId, principals, true);
        return active.length;
      });
      if (told > 0) {
        this.relay.nudge();
        this.logger.info({ principals: told }, 'Told access of principals reactivated during the upgrade');
      }
      return told;
    } catch (error) {
      this.logger.warn({ err: error }, 'Could not sweep the principals announced inactive; it will run again');
      return 0;
    }
  }
}
