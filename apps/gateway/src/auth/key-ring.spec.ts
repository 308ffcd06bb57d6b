import { jest } from '@jest/globals';
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

/** A load of the set, as the timer or an unknown key starts one. */
function load(ring: KeyRing): Promise<void> {
  return (ring as unknown as { load(): Promise<void> }).load();
}

describe('the key ring', () => {
  it('cannot vouch that a key is missing while no load has succeeded (retry, not sign in again)', async () => {
    const ring = ringAnswering(new Error('no identity'), { keys: [jwk('k1')] } as unknown as JwksView);
    try {
      await expect(ring.find('k1')).resolves.toEqual({ missing: 'unsure' });
      await load(ring);
      await expect(ring.find('k1')).resolves.toMatchObject({ key: ring.peek('k1') });
    } finally {
      ring.onModuleDestroy();
    }
  });

  it('says a key is absent when a set fetched after the question lacks it', async () => {
    const ring = ringAnswering({ keys: [jwk('k1')] } as unknown as JwksView);
    await expect(ring.find('k2')).resolves.toEqual({ missing: 'absent' });
  });

  describe('at a rotation (a token of a key recorded after the ring fetched the set)', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] }));
    afterEach(() => jest.useRealTimers());

    it('waits for the one fetch the refresh rate allows, and finds the key: no 401, no 503', async () => {
      const rotated = jwk('k2');
      const fetches: number[] = [];
      const answers = [{ keys: [jwk('k1')] }, { keys: [jwk('k1'), rotated] }] as unknown as JwksView[];
      const rpc = { send: () => Promise.resolve(answers[Math.min(fetches.push(Date.now()), answers.length) - 1]) };
      const ring = new KeyRing(rpc as unknown as RpcClient, { warn: () => undefined } as unknown as Logger, { JWT_KEYS_REFRESH_MS: 60_000 });
      try {
        await expect(ring.find('k1')).resolves.toHaveProperty('key');
        // k2 recorded a second later, and two requests with tokens signed with it.
        await jest.advanceTimersByTimeAsync(1000);
        const first = ring.find('k2');
        const second = ring.find('k2');
        await jest.advanceTimersByTimeAsync(3000);
        expect(fetches).toHaveLength(1);
        await jest.advanceTimersByTimeAsync(1001);
        // One fetch for both, as soon as the rate allowed it.
        expect(fetches).toHaveLength(2);
        await expect(first).resolves.toMatchObject({ key: ring.peek('k2') });
        await expect(second).resolves.toMatchObject({ key: ring.peek('k2') });
        expect(ring.peek('k2')?.export({ format: 'jwk' })).toMatchObject({ x: rotated.x, y: rotated.y });
      } finally {
        ring.onModuleDestroy();
      }
    });

    it('answers unsure to a question that joined a fetch begun before it, absent once a fetch begun after it lacks the key too', async () => {
      const answered: Array<() => void> = [];
      const rpc = {
        send: () => new Promise<JwksView>((resolve) => answered.push(() => resolve({ keys: [jwk('k1')] } as unknown as JwksView))),
      };
      const ring = new KeyRing(rpc as unknown as RpcClient, { warn: () => undefined } as unknown as Logger, { JWT_KEYS_REFRESH_MS: 60_000 });
      try {
        const first = ring.find('k1');
        const joined = ring.find('k2');
        expect(answered).toHaveLength(1);
        answered.shift()!();
        await expect(first).resolves.toHaveProperty('key');
        await expect(joined).resolves.toEqual({ missing: 'unsure' });
        // A forged kid: refused once the fetch the rate allows has looked, never answered "retry" for ever.
        const forged = ring.find('forged');
        await jest.advanceTimersByTimeAsync(5001);
        expect(answered).toHaveLength(1);
        answered.shift()!();
        await expect(forged).resolves.toEqual({ missing: 'absent' });
      } finally {
        ring.onModuleDestroy();
      }
    });

    it('takes the answer of any fetch begun after the question, should it end before the owed one (the periodic fetch)', async () => {
      let fetches = 0;
      const rpc = { send: () => Promise.resolve(void (fetches += 1)).then(() => ({ keys: [jwk('k1')] }) as unknown as JwksView) };
      const ring = new KeyRing(rpc as unknown as RpcClient, { warn: () => undefined } as unknown as Logger, { JWT_KEYS_REFRESH_MS: 1000 });
      try {
        ring.onApplicationBootstrap();
        await jest.advanceTimersByTimeAsync(10);
        const question = ring.find('k2');
        await jest.advanceTimersByTimeAsync(1000);
        await expect(question).resolves.toEqual({ missing: 'absent' });
        expect(fetches).toBe(2);
      } finally {
        ring.onModuleDestroy();
      }
    });
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
