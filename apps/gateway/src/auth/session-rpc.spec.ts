import { MAX_USER_AGENT_LENGTH } from '#libs/contracts/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import type { GatewayRequest } from '../http/request-id.middleware.js';
import { passedOnUserAgent, sessionRpcOf } from './current-actor.decorator.js';

describe('the User-Agent a sign-in passes on to identity', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['curl/8.5.0', 'curl/8.5.0'],
    ['a\tb', 'a b'],
    ['\t ', undefined],
  ])('of the header %j is %j', (header, passed) => {
    expect(passedOnUserAgent(header)).toBe(passed);
  });

  it(`is cut to ${MAX_USER_AGENT_LENGTH} characters, between characters`, () => {
    expect(passedOnUserAgent('é'.repeat(MAX_USER_AGENT_LENGTH * 2))).toBe('é'.repeat(MAX_USER_AGENT_LENGTH));
    expect(passedOnUserAgent(`${'x'.repeat(MAX_USER_AGENT_LENGTH - 1)}😀😀`)).toBe(`${'x'.repeat(MAX_USER_AGENT_LENGTH - 1)}😀`);
  });

  it('goes with the request’s own sender when there is one, and the sender is the request’s when there is none', () => {
    const passedOn: string[] = [];
    const withAgent = {} as RpcSender;
    const rpc = { withUserAgent: (userAgent: string) => (passedOn.push(userAgent), withAgent) } as unknown as RpcSender;
    expect(sessionRpcOf({ headers: { 'user-agent': 'curl/8.5.0' }, rpc } as unknown as GatewayRequest)).toBe(withAgent);
    expect(passedOn).toEqual(['curl/8.5.0']);
    expect(sessionRpcOf({ headers: {}, rpc } as unknown as GatewayRequest)).toBe(rpc);
  });
});
