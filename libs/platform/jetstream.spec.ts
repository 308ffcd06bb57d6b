import { backoffMs } from './jetstream.js';
import { InFlightTracker } from './in-flight.js';

describe('backoffMs', () => {
  it('grows exponentially with jitter and is capped', () => {
    for (let attempt = 1; attempt <= 20; attempt += 1) {
      const base = Math.min(60_000, 500 * 2 ** (attempt - 1));
      const delay = backoffMs(attempt);
      expect(delay).toBeGreaterThanOrEqual(base / 2);
      expect(delay).toBeLessThanOrEqual(base);
    }
  });
});

describe('InFlightTracker', () => {
  it('resolves idle() when the last request leaves', async () => {
    const tracker = new InFlightTracker();
    tracker.enter();
    tracker.enter();
    let idle = false;
    const waiting = tracker.idle(10_000).then(() => (idle = true));
    tracker.leave();
    await Promise.resolve();
    expect(idle).toBe(false);
    tracker.leave();
    await waiting;
    expect(idle).toBe(true);
  });

  it('gives up after the limit', async () => {
    const tracker = new InFlightTracker();
    tracker.enter();
    await tracker.idle(5);
    expect(tracker.size).toBe(1);
  });
});
