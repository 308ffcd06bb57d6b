import { jest } from '@jest/globals';
import type { Response } from 'express';
import type { NatsLink, RpcSender } from '#libs/platform/index.js';
import type { KeyRing } from '../auth/key-ring.service.js';
import type { GatewayConfig } from '../gateway.config.js';
import { OperationsController } from './operations.controller.js';

/** A controller whose services answer ready (one round of questions: three messages). */
function controller() {
  const send = jest.fn((subject: string) => Promise.resolve({ service: subject, ready: true, checks: {} }));
  const link = { isUp: () => true } as unknown as NatsLink;
  const operations = new OperationsController({} as KeyRing, link, { HEALTH_TIMEOUT_MS: 100 } as GatewayConfig);
  const response = () => ({ status: jest.fn<(code: number) => void>() });
  return { operations, rpc: { send } as unknown as RpcSender, send, response };
}

describe('GET /health/system', () => {
  afterEach(() => jest.useRealTimers());

  it('asks every service once for callers at the same moment, and serves that answer for a second', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const { operations, rpc, send, response } = controller();
    const answers = await Promise.all([1, 2, 3].map(() => operations.system(rpc, response() as unknown as Response)));
    expect(answers.map((answer) => answer.ready)).toEqual([true, true, true]);
    expect(send).toHaveBeenCalledTimes(3);

    jest.advanceTimersByTime(999);
    await operations.system(rpc, response() as unknown as Response);
    expect(send).toHaveBeenCalledTimes(3);

    jest.advanceTimersByTime(1);
    await operations.system(rpc, response() as unknown as Response);
    expect(send).toHaveBeenCalledTimes(6);
  });

  it('answers 503 naming the service that does not answer', async () => {
    const { operations, rpc, send, response } = controller();
    send.mockImplementation((subject: string) =>
      subject.startsWith('access.') ? Promise.reject(new Error('no responders')) : Promise.resolve({ service: subject, ready: true, checks: {} }),
    );
    const reply = response();
    const health = await operations.system(rpc, reply as unknown as Response);
    expect(health.ready).toBe(false);
    expect(health.services.access).toEqual({ ready: false });
    expect(reply.status.mock.calls).toEqual([[503]]);
  });
});
