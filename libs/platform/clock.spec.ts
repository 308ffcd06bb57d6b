import { settlesWithin } from './clock.js';

describe('settlesWithin', () => {
  it('is true for work that resolves or rejects in time, false for work that does not', async () => {
    await expect(settlesWithin(Promise.resolve('done'), 50)).resolves.toBe(true);
    await expect(settlesWithin(Promise.reject(new Error('failed')), 50)).resolves.toBe(true);
    await expect(settlesWithin(new Promise(() => undefined), 5)).resolves.toBe(false);
  });
});
