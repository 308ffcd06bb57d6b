/** The time, injectable so that expiry rules can be tested without sleeping. */
export abstract class Clock {
  abstract now(): Date;
}

/** The real clock. */
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** A clock that moves only when told: for tests of expiry and lockout rules, without sleeping. */
export class ManualClock extends Clock {
  private time: number;

  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    super();
    this.time = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.time);
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Whether `work` settles (either way) within `ms`; the timer is cleared as soon as it does. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([work.then(...SETTLED), late]);
  } finally {
    clearTimeout(timer);
  }
}

const SETTLED = [() => true, () => true] as const;

/** A pause that another part of the program can cut short: a loop's wait between two rounds, ended by a stop or a nudge. */
export class WakeablePause {
  private wakeUp: (() => void) | undefined;

  /** Waits `ms`, or less if {@link wake} is called meanwhile. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /** Ends the wait under way, if any. */
  wake(): void {
    this.wakeUp?.();
  }
}
