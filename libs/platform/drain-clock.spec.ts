import { drainTimeLeft, startDrain } from './drain-clock.js';

describe('the drain clock of a shutdown', () => {
  it('gives all of the grace before a shutdown, then what is left of it since the first start, shared by every drain', async () => {
    expect(drainTimeLeft(5000)).toBe(5000);
    startDrain(300);
    startDrain(10_000); // a second signal does not restart it
    const first = drainTimeLeft(5000);
    expect(first).toBeLessThanOrEqual(300);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(drainTimeLeft(5000)).toBeLessThanOrEqual(first - 100);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(drainTimeLeft(5000)).toBe(0);
  });
});
