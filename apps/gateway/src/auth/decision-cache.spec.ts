import { jest } from '@jest/globals';
import { DECISION_CACHE_LIFETIME_MS } from '#libs/contracts/index.js';
import type { NatsLink } from '#libs/platform/index.js';
import { DecisionCache } from './decision-cache.js';

const ACCOUNT = 'a1';
const ALLOWED = { allowed: true, reason: 'granted' } as const;

/** A cache on a fake link: `changed` delivers an `access.changed` broadcast, `reconnected` a NATS reconnect. */
function cacheOnFakeLink() {
  let deliver: (error: Error | null, message: { string(): string }) => void = () => undefined;
  let reconnect: () => void = () => undefined;
  const link = {
    connection: {
      subscribe: (_subject: string, options: { callback: typeof deliver }) => {
        deliver = options.callback;
        return { unsubscribe: () => undefined };
      },
    },
    onReconnect: (listener: () => void) => {
      reconnect = listener;
      return () => undefined;
    },
  } as unknown as NatsLink;
  const cache = new DecisionCache(link);
  cache.onApplicationBootstrap();
  return {
    cache,
    changed: (accountId: string, version?: unknown) => deliver(null, { string: () => JSON.stringify({ accountId, version }) }),
    reconnected: () => reconnect(),
  };
}

describe('the decision cache', () => {
  it('keeps a decision asked and answered with no change in between', () => {
    const { cache } = cacheOnFakeLink();
    cache.set(ACCOUNT, 'k', ALLOWED, cache.ticket());
    expect(cache.get(ACCOUNT, 'k')).toEqual(ALLOWED);
  });

  it('does not keep a decision asked before a change of the account and answered after it', () => {
    const { cache, changed } = cacheOnFakeLink();
    const ticket = cache.ticket();
    changed(ACCOUNT);
    cache.set(ACCOUNT, 'k', ALLOWED, ticket);
    expect(cache.get(ACCOUNT, 'k')).toBeUndefined();
  });

  it("keeps a decision asked before a change of another account (one tenant's changes do not slow the others)", () => {
    const { cache, changed } = cacheOnFakeLink();
    const ticket = cache.ticket();
    changed('a2');
    cache.set(ACCOUNT, 'k', ALLOWED, ticket);
    expect(cache.get(ACCOUNT, 'k')).toEqual(ALLOWED);
  });

  it('does not keep a decision asked before a reconnect (a broadcast may have been missed)', () => {
    const { cache, reconnected } = cacheOnFakeLink();
    const ticket = cache.ticket();
    reconnected();
    cache.set(ACCOUNT, 'k', ALLOWED, ticket);
    expect(cache.get(ACCOUNT, 'k')).toBeUndefined();
  });

  it("drops an account's decisions when it changes, and everything on a reconnect", () => {
    const { cache, changed, reconnected } = cacheOnFakeLink();
    cache.set(ACCOUNT, 'k', ALLOWED, cache.ticket());
    cache.set('a2', 'k', ALLOWED, cache.ticket());
    changed(ACCOUNT);
    expect(cache.get(ACCOUNT, 'k')).toBeUndefined();
    expect(cache.get('a2', 'k')).toEqual(ALLOWED);
    reconnected();
    expect(cache.get('a2', 'k')).toBeUndefined();
  });
});

describe('the account versions heard, sent with the checks of those accounts', () => {
  afterEach(() => jest.useRealTimers());

  it("is the version the account's last broadcast named, for a cache's lifetime", () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { cache, changed } = cacheOnFakeLink();
    expect(cache.versionHeard(ACCOUNT)).toBeUndefined();
    changed(ACCOUNT, 41);
    changed(ACCOUNT, 42);
    expect(cache.versionHeard(ACCOUNT)).toBe(42);
    expect(cache.versionHeard('a2')).toBeUndefined();
    jest.setSystemTime(1_000_000 + DECISION_CACHE_LIFETIME_MS);
    expect(cache.versionHeard(ACCOUNT)).toBe(42);
    jest.setSystemTime(1_000_001 + DECISION_CACHE_LIFETIME_MS);
    expect(cache.versionHeard(ACCOUNT)).toBeUndefined();
  });

  it('keeps the highest version when an older broadcast arrives after a newer one (two access replicas)', () => {
    const { cache, changed } = cacheOnFakeLink();
    changed(ACCOUNT, 42);
    changed(ACCOUNT, 41);
    changed(ACCOUNT);
    expect(cache.versionHeard(ACCOUNT)).toBe(42);
  });

  it('ignores a version that is no whole number of 0 or more, and keeps them through a reconnect', () => {
    const { cache, changed, reconnected } = cacheOnFakeLink();
    for (const version of ['42', -1, 1.5, Number.MAX_SAFE_INTEGER + 2, null]) changed(ACCOUNT, version);
    expect(cache.versionHeard(ACCOUNT)).toBeUndefined();
    changed(ACCOUNT, 7);
    reconnected();
    expect(cache.versionHeard(ACCOUNT)).toBe(7);
  });
});
