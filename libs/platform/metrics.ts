import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/**
 * The process's Prometheus registry: Node's own metrics (CPU, memory, event loop, garbage
 * collection) and what each part of the service counts (`portico_*`). The gateway serves it on
 * METRICS_PORT, the other services on HEALTH_PORT, both at `GET /metrics` (docs/deploy.md,
 * section 10). Imported apart from index.ts, by what measures something.
 */
export const processMetrics = new Registry();
collectDefaultMetrics({ register: processMetrics });

/** The registry in Prometheus's text format, with its content type. */
export async function metricsExposition(): Promise<{ contentType: string; text: string }> {
  return { contentType: processMetrics.contentType, text: await processMetrics.metrics() };
}

/** One value of a gauge read on scrape, with its labels. */
export interface GaugeSample<Label extends string> {
  labels: Partial<Record<Label, string>>;
  value: number;
}

/** Reads a gauge's values now (a count in the database, say, or a reading of memory). */
export type GaugeReader<Label extends string> = () => Promise<Array<GaugeSample<Label>>> | Array<GaugeSample<Label>>;

/**
 * A gauge whose values are read when Prometheus scrapes, from the readers registered in this
 * process: a service registers one (its relay, its store); a test process may hold several
 * instances of one service on one database, so the readers' values of the same labels are combined
 * by their maximum (never counted twice). A reader that fails (its database away) gives no value
 * for that scrape: the series is absent rather than wrong, and the rest of the scrape is served.
 */
export class GaugeReadOnScrape<Label extends string = never> {
  private readonly readers = new Set<GaugeReader<Label>>();

  constructor(config: { name: string; help: string; labelNames?: readonly Label[] }) {
    const readers = this.readers;
    new Gauge<Label>({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames ?? [],
      registers: [processMetrics],
      async collect() {
        this.reset();
        const readings = await Promise.allSettled([...readers].map((read) => Promise.resolve().then(read)));
        const highest = new Map<string, GaugeSample<Label>>();
        for (const reading of readings) {
          if (reading.status === 'rejected') continue;
          for (const sample of reading.value) {
            const key = JSON.stringify(sample.labels);
            const known = highest.get(key);
            if (!known || sample.value > known.value) highest.set(key, sample);
          }
        }
        for (const sample of highest.values()) this.set(sample.labels, sample.value);
      },
    });
  }

  /** Adds a reader; answers the function that removes it (when its owner stops). */
  read(reader: GaugeReader<Label>): () => void {
    this.readers.add(reader);
    return () => this.readers.delete(reader);
  }
}
