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
