import { drainTimeLeft, onDrainStart, startDrain } from './drain-clock.js';

describe('the drain clock of a shutdown', () => {
  it('gives all of the grace before a shutdown, then what is left of it since the first start, shared by every drain; a failing listener stops nothing', async () => {
    expect(drainTimeLeft(5000)).toBe(5000);
    let told = 0;
    let toldAfterStop = 0;
    onDrainStart(() => {
      throw new Error('a listener that fails');
    });
    onDrainStart(() => (told += 1));
    const stop = onDrainStart(() => (toldAfterStop += 1));
    stop();
    expect(told).toBe(0);
    expect(() => startDrain(300)).not.toThrow(); // nor does the failing listener keep the next one from being told
    expect(told).toBe(1);
    expect(toldAfterStop).toBe(0);
    let late = 0;
    onDrainStart(() => (late += 1));
    expect(late).toBe(1);
    startDrain(10_000); // a second signal does not restart it, nor tell anyone again
    expect(told).toBe(1);
    const first = drainTimeLeft(5000);
    expect(first).toBeLessThanOrEqual(300);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(drainTimeLeft(5000)).toBeLessThanOrEqual(first - 100);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(drainTimeLeft(5000)).toBe(0);
  });
});
