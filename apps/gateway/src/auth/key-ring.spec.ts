import { generateKeyPairSync } from 'node:crypto';
import { eventually } from '#libs/testing/eventually.js';
import type { Logger } from 'pino';
import type { JwksView } from '#libs/contracts/index.js';
import type { RpcClient } from '#libs/platform/index.js';
import { KeyRing } from './key-ring.service.js';

const jwk = (kid: string) => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' });

/** A ring whose identity answers with `answers`, one per load (an Error: identity did not answer). */
function ringAnswering(...answers: Array<JwksView | Error>) {
  const rpc = { send: () => Promise.resolve(answers.shift()).then((answer) => (answer instanceof Error ? Promise.reject(answer) : answer)) };
  const logger = { warn: () => undefined } as unknown as Logger;
  return new KeyRing(rpc as unknown as RpcClient, logger, { JWT_KEYS_REFRESH_MS: 1000 });
}

describe('the key ring', () => {
  it('is not current before its first load, nor after a load that failed (a missing key then means retry, not sign in again)', async () => {
    const first = jwk('k1');
    const ring = ringAnswering(new Error('no identity'), { keys: [first] } as unknown as JwksView, new Error('no identity'));
    expect(await ring.find('k1')).toBeUndefined();
    expect(ring.current).toBe(false);
    await (ring as unknown as { load(): Promise<void> }).load();
    expect(ring.current).toBe(true);
    expect(ring.peek('k1')).toBeDefined();
    await (ring as unknown as { load(): Promise<void> }).load();
    expect(ring.current).toBe(false);
    expect(ring.peek('k1')).toBeDefined();
  });

  it('fetches the set again every JWT_KEYS_REFRESH_MS: a key retired in identity is dropped, a failed fetch keeps what it knew', async () => {
    const loads: string[][] = [];
    const answers: Array<JwksView | Error> = [
      { keys: [jwk('k1'), jwk('k2')] } as unknown as JwksView,
      { keys: [jwk('k1')] } as unknown as JwksView,
      new Error('no identity'),
    ];
    // Identity answers as listed, then keeps failing; every answer is noted once the ring has it.
    const rpc = {
      send: () => {
        const answer = answers.shift() ?? new Error('no identity');
        loads.push(answer instanceof Error ? ['failed'] : answer.keys.map((key) => key.kid));
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
    };
    const ring = new KeyRing(rpc as unknown as RpcClient, { warn: () => undefined } as unknown as Logger, { JWT_KEYS_REFRESH_MS: 10 });
    try {
      ring.onApplicationBootstrap();
      await eventually('the first load', () => loads.length >= 1);
      await eventually('the load after it', () => loads.length >= 2);
      await eventually('a failed load', () => loads.length >= 4);
    } finally {
      ring.onModuleDestroy();
    }
    expect(loads.slice(0, 3)).toEqual([['k1', 'k2'], ['k1'], ['failed']]);
    // Retired k2 is gone; the failed loads kept k1.
    expect([ring.peek('k1'), ring.peek('k2')].map(Boolean)).toEqual([true, false]);
  });

  it('keeps the object of a key that stays across a refresh, and takes a new one when the key under that id changed', async () => {
    const first = jwk('k1');
    const replaced = jwk('k1');
    const ring = ringAnswering({ keys: [first] } as unknown as JwksView, { keys: [first] } as unknown as JwksView, { keys: [replaced] } as unknown as JwksView);
    const load = () => (ring as unknown as { load(): Promise<void> }).load();
    await load();
    const held = ring.peek('k1');
    await load();
    expect(ring.peek('k1')).toBe(held);
    await load();
    expect(ring.peek('k1')).not.toBe(held);
    expect(ring.peek('k1')?.export({ format: 'jwk' })).toMatchObject({ x: replaced.x, y: replaced.y });
  });
});
