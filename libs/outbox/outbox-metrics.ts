import { Counter } from 'prom-client';
import type { DataSource } from 'typeorm';
import { GaugeReadOnScrape, processMetrics } from '#libs/platform/metrics.js';
import { OutboxEntity } from './outbox.entity.js';

/**
 * What the outbox relay counts, and the outbox's state read on scrape (docs/deploy.md, section 10).
 * The state is one table per service, read alike by each of its replicas: alert on the highest.
 */
export const outboxMetrics = {
  published: new Counter({
    name: 'portico_outbox_published_total',
    help: 'Events this process relayed to JetStream, which stored them',
    registers: [processMetrics],
  }),
  failed: new Counter({
    name: 'portico_outbox_publish_failures_total',
    help: 'Publishes of events that failed and will be tried again (NATS or the events stream away, or a refusal not yet counted 10 times)',
    registers: [processMetrics],
  }),
  setAside: new Counter({
    name: 'portico_outbox_set_aside_total',
    help: 'Events this process set aside: JetStream refuses them for good, later events go on without them (docs/deploy.md, section 9)',
    registers: [processMetrics],
  }),
  events: new GaugeReadOnScrape<'state'>({
    name: 'portico_outbox_events',
    help: 'Events in the outbox now: waiting to be relayed, or set aside until an operator re-drives or deletes them',
    labelNames: ['state'],
  }),
  oldestWaiting: new GaugeReadOnScrape({
    name: 'portico_outbox_oldest_waiting_seconds',
    help: 'How long the oldest event waiting to be relayed has waited (0 when none waits): events reach nobody meanwhile',
  }),
};

/** Registers the outbox of `dataSource` with the gauges; answers the function that removes it. */
export function readOutboxOnScrape(dataSource: DataSource): () => void {
  const outbox = () => dataSource.createQueryBuilder(OutboxEntity, 'o');
  const stopEvents = outboxMetrics.events.read(async () => {
    const row = await outbox()
      .select('count(*) FILTER (WHERE o.set_aside_at IS NULL)', 'waiting')
      .addSelect('count(*) FILTER (WHERE o.set_aside_at IS NOT NULL)', 'setAside')
      .getRawOne<{ waiting: string; setAside: string }>();
    return [
      { labels: { state: 'waiting' }, value: Number(row?.waiting ?? 0) },
      { labels: { state: 'set_aside' }, value: Number(row?.setAside ?? 0) },
    ];
  });
  const stopOldest = outboxMetrics.oldestWaiting.read(async () => {
    const row = await outbox()
      .select('COALESCE(extract(epoch FROM now() - min(o.created_at)), 0)', 'seconds')
      .where('o.set_aside_at IS NULL')
      .getRawOne<{ seconds: string }>();
    return [{ labels: {}, value: Math.max(0, Number(row?.seconds ?? 0)) }];
  });
  return () => {
    stopEvents();
    stopOldest();
  };
}
