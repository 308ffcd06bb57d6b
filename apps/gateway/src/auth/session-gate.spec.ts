import type { Logger } from 'pino';
import { SESSIONS_REVOKED, SUSPENSION_CHANGED, type Actor, type GateStatePage, type SuspensionChangedEvent } from '#libs/contracts/index.js';
import type { NatsLink, RpcClient } from '#libs/platform/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { withSecondStep } from './second-step.js';
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
  const listeners = new Map<string, (error: Error | null, message: { json: () => unknown }) => void>();
  const rpc = { send: () => new Promise<GateStatePage>((answer, fail) => loads.push({ answer, fail })) };
  const link = {
    connection: {
      subscribe: (subject: string, options: { callback: (error: Error | null, message: { json: () => unknown }) => void }) => {
        listeners.set(subject, options.callback);
        return { unsubscribe: () => undefined };
      },
    },
    onReconnect: (listener: () => void) => {
      reconnect = listener;
      return () => undefined;
    },
  } as unknown as NatsLink;
  const gate = new SessionGate(rpc as unknown as RpcClient, link, { warn: () => undefined } as unknown as Logger);
  gate.onApplicationBootstrap();
  const heard = (subject: string, payload: unknown) => listeners.get(subject)!(null, { json: () => payload });
  return { gate, loads, reconnected: () => reconnect(), heard };
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

  it('keeps the later of two suspension changes of a principal heard out of order, also through a load under way', async () => {
    const fake = gateOnFakeLink();
    gate = fake.gate;
    fake.loads[0].answer(state());
    expect(await refuses(fake.gate, REVOKED)).toBe(false);
    const principal = { accountId: '00000000-0000-4000-8000-0000000000ac', principalType: 'user', principalId: REVOKED.id } as const;
    const change = (suspended: boolean, changedAt: string): SuspensionChangedEvent => ({ ...principal, suspended, changedAt });
    fake.reconnected();
    await eventually('a load after the reconnect', () => fake.loads.length === 2, 2000, 10);
    // The reactivation is heard first, then the deactivation it followed (another identity replica, slower), while a load is under way.
    fake.heard(SUSPENSION_CHANGED, change(false, '2026-05-01T10:00:00.000200Z'));
    fake.heard(SUSPENSION_CHANGED, change(true, '2026-05-01T10:00:00.000100Z'));
    expect(fake.gate.isSuspended(REVOKED, principal.accountId)).toBe(false);
    // The load read the state before the reactivation committed.
    fake.loads[1].answer({ ...state(REVOKED), suspended: [principal] });
    await eventually('the load applied (its revoked session refused)', () => refuses(fake.gate, REVOKED), 2000, 10);
    expect(fake.gate.isSuspended(REVOKED, principal.accountId)).toBe(false);
    // A later change is applied.
    fake.heard(SUSPENSION_CHANGED, change(true, '2026-05-01T10:00:00.000300Z'));
    expect(fake.gate.isSuspended(REVOKED, principal.accountId)).toBe(true);
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

  it('reads the state again soon after a regained second step, which says which of it and a loss heard before committed last', async () => {
    const fake = gateOnFakeLink();
    gate = fake.gate;
    const accountId = '00000000-0000-4000-8000-0000000000ac';
    const actor = withSecondStep({ ...REVOKED }, true);
    const until = new Date(Date.now() + 3600_000).toISOString();
    fake.loads[0].answer({ ...state(), secondStepAccounts: [accountId] });
    await eventually('loaded', async () => !(await refuses(fake.gate, actor)), 2000, 10);
    // Lost (a later commit, on one identity replica), then the regain of the commit before it (another replica, slower).
    fake.heard(SESSIONS_REVOKED, { sessions: [], secondStepLost: [{ id: actor.sessionId, until }] });
    expect(fake.gate.lacksRequiredSecondStep(actor, accountId)).toBe(true);
    fake.heard(SESSIONS_REVOKED, { sessions: [], secondStepRegained: [actor.sessionId] });
    expect(fake.gate.lacksRequiredSecondStep(actor, accountId)).toBe(false);
    // Soon (a second): the state says the loss committed last.
    await eventually('a load after the regain', () => fake.loads.length === 2, 3000, 10);
    fake.loads[1].answer({ ...state(), secondStepAccounts: [accountId], secondStepLost: [{ id: actor.sessionId, until }] });
    await eventually('the loss restored', () => fake.gate.lacksRequiredSecondStep(actor, accountId), 2000, 10);
  });

  it("never asks a service account for a second step (it has none), in an account that asks people for one; its ended tokens are refused as people's", async () => {
    const fake = gateOnFakeLink();
    gate = fake.gate;
    const accountId = '00000000-0000-4000-8000-0000000000ad';
    const person: Actor = { ...REVOKED, sessionId: '00000000-0000-4000-8000-00000000000b' };
    const robot: Actor = { type: 'service-account', id: '00000000-0000-4000-8000-000000000002', sessionId: '00000000-0000-4000-8000-00000000000c' };
    fake.loads[0].answer({ ...state(), secondStepAccounts: [accountId] });
    await eventually('loaded', async () => !(await refuses(fake.gate, person)), 2000, 10);

    expect(fake.gate.lacksRequiredSecondStep(person, accountId)).toBe(true);
    expect(fake.gate.lacksRequiredSecondStep(robot, accountId)).toBe(false);
    fake.heard(SESSIONS_REVOKED, { sessions: [{ id: robot.sessionId, until: new Date(Date.now() + 3600_000).toISOString() }] });
    expect(await refuses(fake.gate, robot)).toBe(true);
  });
});
