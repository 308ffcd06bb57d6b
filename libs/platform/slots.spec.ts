import { Slots } from './slots.js';

describe('slots (a counting semaphore)', () => {
  it('lets `size` holders in at once and the others in order, as slots are given back', async () => {
    const slots = new Slots(2);
    const entered: number[] = [];
    const releases: Array<() => void> = [];
    const works = [0, 1, 2, 3].map((n) =>
      slots.with(
        () =>
          new Promise<void>((resolve) => {
            entered.push(n);
            releases.push(resolve);
          }),
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(entered).toEqual([0, 1]);
    releases.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(entered).toEqual([0, 1, 2]);
    while (releases.length > 0) {
      releases.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(works);
    expect(entered).toEqual([0, 1, 2, 3]);
  });

  it('gives the slot back when the work fails', async () => {
    const slots = new Slots(1);
    await expect(slots.with(() => Promise.reject(new Error('failed')))).rejects.toThrow('failed');
    await expect(slots.with(() => Promise.resolve('next'))).resolves.toBe('next');
  });
});
