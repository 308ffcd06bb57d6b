import type { RpcSender } from '#libs/platform/index.js';
import type { GatewayRequest } from '../http/request-id.middleware.js';
import { sessionRpcOf } from './current-actor.decorator.js';

describe('the sender of a route that opens or renews a session', () => {
  const passedOn: string[] = [];
  const withAgent = {} as RpcSender;
  const rpc = { withUserAgent: (userAgent: string) => (passedOn.push(userAgent), withAgent) } as unknown as RpcSender;
  const senderFor = (headers: Record<string, string>) => sessionRpcOf({ headers, rpc } as unknown as GatewayRequest);

  beforeEach(() => (passedOn.length = 0));

  it('passes on the User-Agent, cleaned', () => {
    expect(senderFor({ 'user-agent': ' curl/8.5.0\t' })).toBe(withAgent);
    expect(passedOn).toEqual(['curl/8.5.0']);
  });

  it('is the request’s own sender when the client sent no User-Agent, or one with nothing left', () => {
    expect(senderFor({})).toBe(rpc);
    expect(senderFor({ 'user-agent': '\t' })).toBe(rpc);
    expect(passedOn).toEqual([]);
  });
});
