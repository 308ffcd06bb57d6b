import { jest } from '@jest/globals';
import { GAUGE_READ_DEADLINE_MS, GaugeReadOnScrape, metricsExposition, processMetrics } from './metrics.js';

const gauge = new GaugeReadOnScrape<'state'>({ name: 'portico_test_things', help: 'Things, by state', labelNames: ['state'] });

/** The gauge's values as a scrape reads them, by state. */
async function scraped(): Promise<Record<string, number>> {
  const { values } = await processMetrics.getSingleMetric('portico_test_things')!.get();
  return Object.fromEntries(values.map((sample) => [String(sample.labels.state), sample.value]));
}

describe('a gauge read on scrape', () => {
  it('reads its readers at each scrape, and forgets a reader once removed', async () => {
    let waiting = 3;
    const stop = gauge.read(() => [{ labels: { state: 'waiting' }, value: waiting }]);
    expect(await scraped()).toEqual({ waiting: 3 });
    waiting = 0;
    expect(await scraped()).toEqual({ waiting: 0 });
    stop();
    expect(await scraped()).toEqual({});
  });

  it('takes the highest value of each series over its readers (two instances of one table are not counted twice)', async () => {
    const stops = [
      gauge.read(() => [{ labels: { state: 'waiting' }, value: 2 }]),
      gauge.read(() => [
        { labels: { state: 'waiting' }, value: 5 },
        { labels: { state: 'set_aside' }, value: 1 },
      ]),
    ];
    expect(await scraped()).toEqual({ waiting: 5, set_aside: 1 });
    stops.forEach((stop) => stop());
  });

  it('leaves out what a failing reader would give, and serves the rest of the scrape', async () => {
    const stops = [
      gauge.read(() => Promise.reject(new Error('database away'))),
      gauge.read(() => {
        throw new Error('not readable');
      }),
      gauge.read(() => [{ labels: { state: 'set_aside' }, value: 4 }]),
    ];
    expect(await scraped()).toEqual({ set_aside: 4 });
    const { contentType, text } = await metricsExposition();
    expect(contentType).toMatch(/^text\/plain/);
    expect(text).toContain('portico_test_things{state="set_aside"} 4');
    expect(text).toContain('process_cpu_seconds_total');
    stops.forEach((stop) => stop());
  });

  it('serves the scrape without a reader that has not answered in time, and does not start that read again while it lasts', async () => {
    jest.useFakeTimers();
    try {
      let reads = 0;
      let answer: (samples: Array<{ labels: { state: string }; value: number }>) => void = () => undefined;
      const stops = [
        gauge.read(() => {
          reads += 1;
          return new Promise((resolve) => (answer = resolve));
        }),
        gauge.read(() => [{ labels: { state: 'set_aside' }, value: 2 }]),
      ];
      const first = scraped();
      await jest.advanceTimersByTimeAsync(GAUGE_READ_DEADLINE_MS);
      expect(await first).toEqual({ set_aside: 2 });
      const second = scraped();
      await jest.advanceTimersByTimeAsync(GAUGE_READ_DEADLINE_MS);
      expect(await second).toEqual({ set_aside: 2 });
      expect(reads).toBe(1);
      answer([{ labels: { state: 'waiting' }, value: 7 }]);
      expect(await scraped()).toEqual({ waiting: 7, set_aside: 2 });
      expect(reads).toBe(1);
      stops.forEach((stop) => stop());
    } finally {
      jest.useRealTimers();
    }
  });
});
