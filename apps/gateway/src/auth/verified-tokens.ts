import type { KeyObject } from 'node:crypto';

/** The registered claims the cache looks at (seconds since the epoch). */
export interface TimedClaims {
  exp?: number;
  nbf?: number;
}

interface Entry<C> {
  claims: C;
  kid: string;
  key: KeyObject;
}

/**
 * Access tokens whose signature this gateway has already verified, keyed by the whole token
 * string (header, claims and signature): the same bytes verify the same way with the same key,
 * so an ES256 verification (~80 us) is done once per token, not once per request. On every hit
 * the time claims are checked again and the signing key must still be in the key ring; the
 * session gate and the permission check still run on every request. Bounded: the oldest token
 * goes first when full.
 */
export class VerifiedTokens<C extends TimedClaims> {
  private readonly entries = new Map<string, Entry<C>>();

  constructor(private readonly maxEntries = 10_000) {}

  /** The claims of `token` when it was verified before and is usable at `nowSeconds` with a key the ring still holds. */
  get(token: string, nowSeconds: number, keyInRing: (kid: string) => KeyObject | undefined): C | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    const { exp, nbf } = entry.claims;
    const timely = (exp === undefined || nowSeconds < exp) && (nbf === undefined || nowSeconds >= nbf);
    const current = keyInRing(entry.kid);
    if (timely && current && (current === entry.key || current.equals(entry.key))) return entry.claims;
    this.entries.delete(token);
    return undefined;
  }

  /** Remembers a token that has just been verified with `key` (id `kid`). */
  remember(token: string, claims: C, kid: string, key: KeyObject): void {
    if (this.entries.size >= this.maxEntries && !this.entries.has(token)) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { claims, kid, key });
  }

  /** How many tokens are remembered. */
  get size(): number {
    return this.entries.size;
  }
}
