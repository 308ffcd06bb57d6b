import { Authenticated, Public, RequirePermission } from './route-policy.js';

describe('route policies', () => {
  it.each([
    ['Public', Public()],
    ['Authenticated', Authenticated()],
    ['RequirePermission', RequirePermission('members', 'read')],
  ])('are put on a route method, never on a controller (%s)', (name, policy) => {
    expect(() => (policy as ClassDecorator)(class Controller {})).toThrow(`@${name}() belongs on a route method, not on a controller`);
  });
});
