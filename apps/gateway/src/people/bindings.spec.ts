import { applicationsOf, asInput, roleNames } from './bindings.js';

const admin = { roleId: 'r1', role: 'Admin', applicationIds: null };
const dev = (applicationIds: string[] | null) => ({ roleId: 'r2', role: 'Developer', applicationIds });

describe('binding views', () => {
  it('lists role names once each', () => {
    expect(roleNames([admin, dev(['a']), dev(['b'])])).toEqual(['Admin', 'Developer']);
    expect(roleNames(undefined)).toEqual([]);
  });

  it.each([
    [
      [dev(['a', 'b']), dev(['b', 'c'])],
      ['a', 'b', 'c'],
    ],
    [[dev(['a']), admin], null],
    [[], null],
  ])('applications of %j -> %j', (bindings, expected) => {
    expect(applicationsOf(bindings)).toEqual(expected);
  });

  it('sends a binding back by role id', () => {
    expect(asInput(dev(['a']))).toEqual({ role: 'r2', applicationIds: ['a'] });
  });
});
