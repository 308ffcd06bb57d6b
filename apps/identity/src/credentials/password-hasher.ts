import { hash, verify } from '@node-rs/argon2';
import { DomainError, ErrorCode } from '#libs/errors/index.js';

/** `Algorithm.Argon2id` of @node-rs/argon2 (an ambient const enum, so spelled out). */
const ARGON2ID = 2;

/** argon2id parameters (OWASP: m=19 MiB, t=2, p=1). */
export const ARGON2_PARAMS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** The argon2 primitives, injectable so tests can see what is computed. */
export interface Argon2 {
  hash(password: string): Promise<string>;
  verify(phc: string, password: string): Promise<boolean>;
}

/** argon2id from @node-rs/argon2 (a native thread pool), with {@link ARGON2_PARAMS}. */
export const nodeArgon2: Argon2 = {
  hash: (password) => hash(password, ARGON2_PARAMS),
  verify: (phc, password) => verify(phc, password),
};

/**
 * Hashes and verifies passwords with argon2id, at most `concurrency` at once; past `queueLimit`
 * waiting jobs it refuses with SERVICE_UNAVAILABLE, so a login flood cannot starve the service.
 */
export class PasswordHasher {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Made at start, so even the first unknown login costs what a known one does. */
  private readonly dummy: Promise<string>;

  constructor(
    private readonly concurrency: number,
    private readonly queueLimit: number,
    private readonly argon2: Argon2 = nodeArgon2,
    /** Told of each job refused past the queue limit (the metric counts them). */
    private readonly onRefused: () => void = () => undefined,
  ) {
    this.dummy = argon2.hash('portico-dummy-password-for-timing');
  }

  /** The argon2id hash of `password` (PHC string), exactly as typed. */
  hash(password: string): Promise<string> {
    return this.bounded(() => this.argon2.hash(password));
  }

  /** Whether `password` matches `phc`. With no hash, verifies against a dummy so timing does not tell. */
  async verify(phc: string | null, password: string): Promise<boolean> {
    const target = phc ?? (await this.dummy);
    const matches = await this.bounded(() => this.argon2.verify(target, password).catch(() => false));
    return phc !== null && matches;
  }

  /** Jobs running and waiting now (for metrics and tests). */
  load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  private async bounded<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) {
        this.onRefused();
        throw new DomainError(ErrorCode.ServiceUnavailable, 'Too many sign-ins at once, retry shortly');
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running += 1;
    try {
      return await work();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}
