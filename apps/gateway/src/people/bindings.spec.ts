import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { applicationsOf, asInput, inBodyTerms, roleIds, roleNames } from './bindings.js';

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
    [[], []],
    [undefined, []],
  ])('applications of %j -> %j', (bindings, expected) => {
    expect(applicationsOf(bindings)).toEqual(expected);
  });

  it('lists role ids once each: the roles kept by an edit are sent back by id, as a name may stand for another role by then', () => {
    expect(roleIds([admin, dev(['a']), dev(['b'])])).toEqual(['r1', 'r2']);
    expect(roleIds(undefined)).toEqual([]);
  });

  it('sends a binding back by role id', () => {
    expect(asInput(dev(['a']))).toEqual({ role: 'r2', applicationIds: ['a'] });
  });
});

describe('refusals of access in the terms of the body', () => {
  const subuserFields = { role: (index: number) => `roles.${index}`, applicationIds: () => 'applicationIds' };
  const refusal = (message: string, details?: unknown) => new DomainError(ErrorCode.ValidationFailed, message, details);
  const renamed = (error: unknown) => {
    try {
      inBodyTerms(error, subuserFields);
    } catch (thrown) {
      return thrown;
    }
    throw new Error('expected a refusal');
  };

  it('names the field as the body does', () => {
    expect(renamed(refusal('bindings.1.role: no role "Nope" in this account', { field: 'bindings.1.role' }))).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'roles.1: no role "Nope" in this account',
      details: { field: 'roles.1' },
    });
    expect(renamed(refusal('bindings.0.applicationIds: unknown application x'))).toMatchObject({ message: 'applicationIds: unknown application x' });
  });

  it('passes other errors on unchanged', () => {
    const forbidden = new DomainError(ErrorCode.Forbidden, 'You cannot grant a permission you lack');
    expect(renamed(forbidden)).toBe(forbidden);
  });
});
