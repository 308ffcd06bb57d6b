import { pino } from 'pino';
import { shutdownHandler } from './service-runner.js';

const logger = pino({ level: 'silent' });

/** Runs the handler for one signal and resolves with the exit code it chose. */
function exitCodeOf(stop: () => Promise<void>, deadlineMs: number, signals = 1): Promise<number[]> {
  return new Promise((resolve) => {
    const codes: number[] = [];
    const handle = shutdownHandler(logger, stop, deadlineMs, (code) => {
      codes.push(code);
      // Give a second exit (a deadline not cleared) the time to show up.
      setTimeout(() => resolve(codes), deadlineMs + 50);
    });
    for (let i = 0; i < signals; i += 1) handle('SIGTERM');
  });
}

describe('shutting down on a signal', () => {
  it('exits 0 once the stop has finished, once, however many signals come', async () => {
    let stops = 0;
    const codes = await exitCodeOf(
      () => {
        stops += 1;
        return Promise.resolve();
      },
      50,
      3,
    );
    expect(codes).toEqual([0]);
    expect(stops).toBe(1);
  });

  it('exits 1 when the stop fails', async () => {
    expect(await exitCodeOf(() => Promise.reject(new Error('pool would not close')), 50)).toEqual([1]);
  });

  it('exits 1 when the stop is still running at the deadline, instead of hanging', async () => {
    expect(await exitCodeOf(() => new Promise<void>(() => undefined), 50)).toEqual([1]);
  });

  it('does not cut short a stop that finishes before the deadline', async () => {
    expect(await exitCodeOf(() => new Promise<void>((resolve) => setTimeout(resolve, 30)), 200)).toEqual([0]);
  });
});
