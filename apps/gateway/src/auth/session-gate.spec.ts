import type { Logger } from 'pino';
import type { Actor, GateStatePage } from '#libs/contracts/index.js';
import type { NatsLink, RpcClient } from '#libs/platform/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { SessionGate } from './session-gate.service.js';

const REVOKED: Actor = { type: 'user', id: '00000000-0000-4000-8000-000000000001', sessionId: '00000000-0000-4000-8000-00000000000a' };

/** One page holding the whole state: `revoked` sessions ended, refused for the next hour. */
const state = (...revoked: Actor[]): GateStatePage => ({
  revokedSessions: revoked.map((actor) => ({ id: actor.sessionId, until: new Date(Date.now() + 3600_000).toISOString() })),
  suspended: [],
  secondStepAccounts: [],
  next: null,
});

/**
 * A gate on a fake link whose identity answers each load only when the test says: `loads` holds
 * every request for the state, in order, to answer or fail; `reconnected` is a NATS reconnect.
 */
function gateOnFakeLink() {
  const loads: Array<{ answer: (page: GateStatePage) => void; fail: (error: Error) => void }> = [];
  let reconnect: () => void = () => undefined;
  const rpc = { send: () => new Promise<GateStatePage>((answer, fail) => loads.push({ answer, fail })) };
  const link = {
    connection: { subscribe: () => ({ unsubscribe: () => undefined }) },
    onReconnect: (listener: () => void) => {
      reconnect = listener;
      return () => undefined;
    },
  } as unknown as NatsLink;
  const gate = new SessionGate(rpc as unknown as RpcClient, link, { warn: () => undefined } as unknown as Logger);
  gate.onApplicationBootstrap();
  return { gate, loads, reconnected: () => reconnect() };
}

/** Whether the gate refuses the session of `actor` now. */
const refuses = (gate: SessionGate, actor: Actor) =>
  gate.assertSessionLive(actor).then(
    () => false,
    () => true,
  );

describe('the session gate', () => {
  let gate: SessionGate | undefined;
  afterEach(() => gate?.onModuleDestroy());

  it('loads the state afresh after a reconnect during a load: the load under way may have read it before the outage', async () => {
    const fake = gateOnFakeLink();
    gate = fake.gate;
    fake.loads[0].answer(state());
    expect(await refuses(fake.gate, REVOKED)).toBe(false);
    fake.reconnected();
    await eventually('a load after the reconnect', () => fake.loads.length === 2, 2000, 10);
    // NATS drops again while that load is under way: revocations broadcast meanwhile were missed.
    fake.reconnected();
    fake.loads[1].answer(state());
    await eventually('a fresh load after the one under way', () => fake.loads.length === 3, 2000, 10);
    fake.loads[2].answer(state(REVOKED));
    await eventually('the revoked session refused', () => refuses(fake.gate, REVOKED), 2000, 10);
  });

  it('loads the state again soon after a load failed, also once it had loaded (its reply may be lost in a reconnect)', async () => {
    const fake = gateOnFakeLink();
    gate = fake.gate;
    fake.loads[0].answer(state());
    expect(await refuses(fake.gate, REVOKED)).toBe(false);
    fake.reconnected();
    await eventually('a load after the reconnect', () => fake.loads.length === 2, 2000, 10);
    fake.loads[1].fail(new Error('Request timed out'));
    // Soon: well before the minute's reload.
    await eventually('another load', () => fake.loads.length === 3, 3000, 10);
    fake.loads[2].answer(state(REVOKED));
    await eventually('the revoked session refused', () => refuses(fake.gate, REVOKED), 2000, 10);
  });
});
