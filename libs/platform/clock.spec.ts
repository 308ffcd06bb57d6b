import { settlesWithin, WakeablePause } from './clock.js';

describe('settlesWithin', () => {
  it('is true for work that resolves or rejects in time, false for work that does not', async () => {
    await expect(settlesWithin(Promise.resolve('done'), 50)).resolves.toBe(true);
    await expect(settlesWithin(Promise.reject(new Error('failed')), 50)).resolves.toBe(true);
    await expect(settlesWithin(new Promise(() => undefined), 5)).resolves.toBe(false);
  });
});

describe('WakeablePause', () => {
  it('ends when its time is up, or as soon as it is woken', async () => {
    const pause = new WakeablePause();
    await expect(settlesWithin(pause.wait(1), 1000)).resolves.toBe(true);

    const long = pause.wait(60_000);
    pause.wake();
    await expect(settlesWithin(long, 1000)).resolves.toBe(true);
    pause.wake(); // nothing under way: nothing happens
  });
});
