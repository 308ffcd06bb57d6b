import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { VerifiedTokens } from './verified-tokens.js';

const key = (): KeyObject => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;

describe('VerifiedTokens', () => {
  const signing = key();
  const ring = (entries: Record<string, KeyObject>) => (kid: string) => entries[kid];

  it('remembers a verified token only while it is timely and its key is in the ring', () => {
    const tokens = new VerifiedTokens<{ exp?: number; nbf?: number; sub: string }>();
    tokens.remember('t1', { sub: 'a', exp: 100, nbf: 50 }, 'k1', signing);
    expect(tokens.get('t1', 60, ring({ k1: signing }))).toEqual({ sub: 'a', exp: 100, nbf: 50 });
    expect(tokens.get('t1', 99, ring({ k1: signing }))?.sub).toBe('a');
    expect(tokens.get('t1', 40, ring({ k1: signing }))).toBeUndefined();
    tokens.remember('t1', { sub: 'a', exp: 100 }, 'k1', signing);
    expect(tokens.get('t1', 100, ring({ k1: signing }))).toBeUndefined();
    expect(tokens.size).toBe(0);
    tokens.remember('t2', { sub: 'b', exp: 100 }, 'k1', signing);
    expect(tokens.get('t2', 60, ring({}))).toBeUndefined();
    tokens.remember('t3', { sub: 'c', exp: 100 }, 'k1', signing);
    expect(tokens.get('t3', 60, ring({ k1: key() }))).toBeUndefined();
    tokens.remember('t4', { sub: 'd', exp: 100 }, 'k1', signing);
    const sameKeyLoadedAgain = createPublicKey({ key: signing.export({ format: 'jwk' }), format: 'jwk' });
    expect(tokens.get('t4', 60, ring({ k1: sameKeyLoadedAgain }))?.sub).toBe('d');
    expect(tokens.get('unknown', 60, ring({ k1: signing }))).toBeUndefined();
  });

  it('forgets the least recently used token when full', () => {
    const tokens = new VerifiedTokens<{ exp: number; sid: string }>(2);
    const claims = (sid: string) => ({ exp: 100, sid });
    tokens.remember('a', claims('s1'), 'k', signing);
    tokens.remember('b', claims('s2'), 'k', signing);
    expect(tokens.get('a', 1, ring({ k: signing }))).toEqual(claims('s1'));
    tokens.remember('c', claims('s3'), 'k', signing);
    expect(tokens.size).toBe(2);
    expect(tokens.get('b', 1, ring({ k: signing }))).toBeUndefined();
    expect(tokens.get('a', 1, ring({ k: signing }))).toEqual(claims('s1'));
    expect(tokens.get('c', 1, ring({ k: signing }))).toEqual(claims('s3'));
  });

  it('gives every token read since eviction last passed over it a second chance, then forgets the oldest', () => {
    const tokens = new VerifiedTokens<{ exp: number; sid: string }>(3);
    const claims = (sid: string) => ({ exp: 100, sid });
    for (const name of ['a', 'b', 'c']) tokens.remember(name, claims(name), 'k', signing);
    // Least recently used would forget c.
    for (const name of ['c', 'b', 'a']) tokens.get(name, 1, ring({ k: signing }));
    tokens.remember('d', claims('d'), 'k', signing);
    expect(['a', 'b', 'c', 'd'].filter((name) => tokens.get(name, 1, ring({ k: signing })))).toEqual(['b', 'c', 'd']);
  });

  it('gives a session back its share when one of its tokens is pushed out to make room', () => {
    const tokens = new VerifiedTokens<{ exp: number; sid: string }>(2, 1);
    tokens.remember('mine.1', { exp: 100, sid: 'mine' }, 'k', signing);
    tokens.remember('other.1', { exp: 100, sid: 'other' }, 'k', signing);
    tokens.remember('third.1', { exp: 100, sid: 'third' }, 'k', signing);
    expect(tokens.get('mine.1', 1, ring({ k: signing }))).toBeUndefined();
    tokens.remember('mine.2', { exp: 100, sid: 'mine' }, 'k', signing);
    expect(tokens.get('mine.2', 1, ring({ k: signing }))?.sid).toBe('mine');
  });

  it('holds at most a few tokens of one session, so one caller cannot push the others out', () => {
    const tokens = new VerifiedTokens<{ exp: number; sid: string }>(100, 2);
    for (const spelling of ['t.a', 't.b', 't.c', 't.d']) tokens.remember(spelling, { exp: 100, sid: 'mine' }, 'k', signing);
    tokens.remember('other', { exp: 100, sid: 'theirs' }, 'k', signing);
    expect(tokens.size).toBe(3);
    expect(tokens.get('t.c', 1, ring({ k: signing }))).toBeUndefined();
    expect(tokens.get('other', 1, ring({ k: signing }))?.sid).toBe('theirs');
    // Once one of the session's tokens is gone (expired here), another may take its place.
    expect(tokens.get('t.a', 200, ring({ k: signing }))).toBeUndefined();
    tokens.remember('t.c', { exp: 300, sid: 'mine' }, 'k', signing);
    expect(tokens.get('t.c', 1, ring({ k: signing }))?.sid).toBe('mine');
  });
});
