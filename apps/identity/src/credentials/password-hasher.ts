import { hash, verify } from '@node-rs/argon2';
import { DomainError, ErrorCode } from '#libs/errors/index.js';

/** argon2id parameters (OWASP: m=19 MiB, t=2, p=1). */
/** `Algorithm.Argon2id` of @node-rs/argon2 (an ambient const enum, so spelled out). */
const ARGON2ID = 2;

export const ARGON2_PARAMS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * Hashes and verifies passwords with argon2id, at most `concurrency` at once; past `queueLimit`
 * waiting jobs it refuses with SERVICE_UNAVAILABLE, so a login flood cannot starve the service.
 */
export class PasswordHasher {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly dummyHash: Promise<string>;

  constructor(
    private readonly concurrency: number,
    private readonly queueLimit: number,
  ) {
    this.dummyHash = hash('portico-dummy-password-for-timing', ARGON2_PARAMS);
  }

  /** The argon2id hash of `password` (PHC string). */
  hash(password: string): Promise<string> {
    return this.bounded(() => hash(password, ARGON2_PARAMS));
  }

  /** Whether `password` matches `phc`. With no hash, verifies against a dummy so timing does not tell. */
  async verify(phc: string | null, password: string): Promise<boolean> {
    const target = phc ?? (await this.dummyHash);
    const matches = await this.bounded(() => verify(target, password).catch(() => false));
    return phc !== null && matches;
  }

  private async bounded<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) {
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
