import type { KeyObject } from 'node:crypto';
import { SecondChanceMap } from '#libs/platform/index.js';

/** The claims the cache looks at: time claims (seconds since the epoch) and the session. */
export interface TimedClaims {
  exp?: number;
  nbf?: number;
  sid?: string;
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
 * session gate and the permission check still run on every request.
 *
 * Bounded, least recently used first out, approximately ({@link SecondChanceMap}: a hit writes
 * nothing but a flag). One session holds at most `perSession` entries: a
 * signature can be spelled several ways that all verify (spare base64 bits, ECDSA's mirrored
 * `s`), and without that cap one caller could push everyone else's tokens out.
 */
export class VerifiedTokens<C extends TimedClaims> {
  private readonly entries: SecondChanceMap<string, Entry<C>>;
  private readonly bySession = new Map<string, number>();

  constructor(
    maxEntries = 10_000,
    private readonly perSession = 4,
  ) {
    this.entries = new SecondChanceMap(maxEntries, (_token, entry) => this.leaveSession(entry));
  }

  /** The claims of `token` when it was verified before and is usable at `nowSeconds` with a key the ring still holds. */
  get(token: string, nowSeconds: number, keyInRing: (kid: string) => KeyObject | undefined): C | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    const { exp, nbf } = entry.claims;
    const timely = (exp === undefined || nowSeconds < exp) && (nbf === undefined || nowSeconds >= nbf);
    const current = keyInRing(entry.kid);
    if (!timely || !current || (current !== entry.key && !current.equals(entry.key))) {
      this.forget(token);
      return undefined;
    }
    return entry.claims;
  }

  /** Remembers a token that has just been verified with `key` (id `kid`), unless its session holds its share already. */
  remember(token: string, claims: C, kid: string, key: KeyObject): void {
    if (this.entries.has(token)) return;
    const session = claims.sid ?? '';
    if ((this.bySession.get(session) ?? 0) >= this.perSession) return;
    this.entries.set(token, { claims, kid, key });
    this.bySession.set(session, (this.bySession.get(session) ?? 0) + 1);
  }

  /** How many tokens are remembered. */
  get size(): number {
    return this.entries.size;
  }

  private forget(token: string): void {
    const entry = this.entries.get(token);
    if (!entry) return;
    this.entries.delete(token);
    this.leaveSession(entry);
  }

  private leaveSession(entry: Entry<C>): void {
    const session = entry.claims.sid ?? '';
    const left = (this.bySession.get(session) ?? 1) - 1;
    if (left > 0) this.bySession.set(session, left);
    else this.bySession.delete(session);
  }
}
