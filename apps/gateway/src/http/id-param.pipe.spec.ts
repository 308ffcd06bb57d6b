import { IdParam, RoleIdParam } from './id-param.pipe.js';

const UUID = '0b6e7f0e-3c1a-4d2b-9f6e-1a2b3c4d5e6f';

describe('a role id in a path', () => {
  const pipe = new RoleIdParam();

  it.each([
    ['a custom role id, lower-cased', UUID.toUpperCase(), UUID],
    ['a built-in role id, as written', 'builtin:Developer', 'builtin:Developer'],
    ['the longest built-in role id access takes', `builtin:${'x'.repeat(112)}`, `builtin:${'x'.repeat(112)}`],
  ])('takes %s', (_what, value, expected) => {
    expect(pipe.transform(value)).toBe(expected);
  });

  it.each([
    ['a role name', 'Developer'],
    ['the prefix alone', 'builtin:'],
    ['a built-in role id longer than access takes (120)', `builtin:${'x'.repeat(113)}`],
  ])('answers 404 to %s, as to any id that names nothing', (_what, value) => {
    expect(() => pipe.transform(value)).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: 'Role not found' }));
  });
});

describe('an id in a path', () => {
  it('answers 404 naming what it looked for to anything that is not a UUID', () => {
    expect(() => new IdParam('User').transform('42')).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: 'User not found' }));
  });
});
