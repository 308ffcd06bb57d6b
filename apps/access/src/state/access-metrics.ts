import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { GaugeReadOnScrape, processMetrics, ScrapedGauges } from '#libs/platform/metrics.js';
import { DecisionStore } from '../checks/decision-store.js';

/** What access counts of the decisions it keeps in memory (docs/deploy.md, section 10); each replica its own. */
export const accessMetrics = {
  loaded: new GaugeReadOnScrape<'kind'>({
    name: 'portico_access_loaded',
    help: 'What this replica holds in memory to decide checks: accounts, and principals holding a binding (one per account they work in)',
    labelNames: ['kind'],
  }),
  stale: new GaugeReadOnScrape({
    name: 'portico_access_stale_accounts',
    help: 'Accounts whose reload failed on this replica: their checks answer 503 until a reload succeeds (the next re-sync at the latest)',
  }),
  resynced: new Counter({
    name: 'portico_access_resynced_accounts_total',
    help: 'Accounts a re-sync of this replica caught up with: a change committed elsewhere whose broadcast it had not applied',
    registers: [processMetrics],
  }),
};

/** Reads the replica's memory when Prometheus scrapes. */
@Injectable()
export class AccessStateGauges extends ScrapedGauges {
  constructor(private readonly store: DecisionStore) {
    super();
  }

  protected readers(): Array<() => void> {
    return [
      accessMetrics.loaded.read(() => {
        const { accounts, principals } = this.store.size();
        return [
          { labels: { kind: 'accounts' }, value: accounts },
          { labels: { kind: 'principals' }, value: principals },
        ];
      }),
      accessMetrics.stale.read(() => [{ labels: {}, value: this.store.staleAccounts().length }]),
    ];
  }
}
