import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { settlesWithin } from './clock.js';

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

/** How long a scrape waits for one reader (a query) before it leaves that reader's values out. */
export const GAUGE_READ_DEADLINE_MS = 2000;

/**
 * A gauge whose values are read when Prometheus scrapes, from the readers registered in this
 * process: a service registers one (its relay, its store); a test process may hold several
 * instances of one service on one database, so the readers' values of the same labels are combined
 * by their maximum (never counted twice). A reader that fails, or has not answered within
 * {@link GAUGE_READ_DEADLINE_MS} (its database away or slow), gives no value for that scrape: the
 * series is absent rather than wrong, and the rest of the scrape is served in time. A read still
 * under way is not started again by the next scrape, which waits for the same one.
 */
export class GaugeReadOnScrape<Label extends string = never> {
  private readonly readers = new Set<GaugeReader<Label>>();
  private readonly underWay = new Map<GaugeReader<Label>, Promise<Array<GaugeSample<Label>>>>();

  constructor(config: { name: string; help: string; labelNames?: readonly Label[] }) {
    const values = () => this.values();
    new Gauge<Label>({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames ?? [],
      registers: [processMetrics],
      async collect() {
        const samples = await values();
        this.reset();
        for (const sample of samples) this.set(sample.labels, sample.value);
      },
    });
  }

  /** Adds a reader; answers the function that removes it (when its owner stops). */
  read(reader: GaugeReader<Label>): () => void {
    this.readers.add(reader);
    return () => this.readers.delete(reader);
  }

  /** The highest value of each series over the readers that answered in time. */
  private async values(): Promise<Array<GaugeSample<Label>>> {
    const readings = await Promise.all([...this.readers].map((reader) => this.readInTime(reader)));
    const highest = new Map<string, GaugeSample<Label>>();
    for (const sample of readings.flat()) {
      if (!Number.isFinite(sample.value)) continue;
      const key = JSON.stringify(Object.entries(sample.labels).sort());
      const known = highest.get(key);
      if (!known || sample.value > known.value) highest.set(key, sample);
    }
    return [...highest.values()];
  }

  /** A reader's samples, or none if it failed or is late. */
  private async readInTime(reader: GaugeReader<Label>): Promise<Array<GaugeSample<Label>>> {
    let reading = this.underWay.get(reader);
    if (!reading) {
      reading = Promise.resolve()
        .then(reader)
        .finally(() => this.underWay.delete(reader));
      this.underWay.set(reader, reading);
    }
    const answered = reading.then(
      (samples) => samples,
      () => [],
    );
    return (await settlesWithin(answered, GAUGE_READ_DEADLINE_MS)) ? answered : [];
  }
}

/**
 * A provider whose gauges are read on scrape from what it holds: its readers (from {@link readers})
 * are registered when the application has started and removed when its module stops.
 */
export abstract class ScrapedGauges {
  private stops: Array<() => void> = [];

  /** Registers the provider's readers; answers their removers (what {@link GaugeReadOnScrape.read} answers). */
  protected abstract readers(): Array<() => void>;

  onApplicationBootstrap(): void {
    this.stops.push(...this.readers());
  }

  onModuleDestroy(): void {
    for (const stop of this.stops.splice(0)) stop();
  }
}
