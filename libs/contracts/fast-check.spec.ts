import { parseBindingsOfPrincipalsRequest, parseCheckBatch, parseCheckRequest, parseEffectivePermissionsRequest } from './fast-check.js';

const valid = {
  principal: { type: 'user', id: '00000000-0000-4000-8000-000000000001' },
  accountId: '00000000-0000-4000-8000-000000000002',
  section: 'scenarios',
  action: 'read',
};

const UPPER = {
  principal: 'ABCDEF00-0000-4000-8000-00000000000A',
  account: 'ABCDEF00-0000-4000-8000-00000000000B',
  application: 'ABCDEF00-0000-4000-8000-00000000000C',
};
/** The ids of UPPER, as the parsers answer them. */
const lowered = {
  principal: { type: 'user', id: UPPER.principal.toLowerCase() },
  accountId: UPPER.account.toLowerCase(),
  applicationId: UPPER.application.toLowerCase(),
};
/** A new question about UPPER's principal and account. */
const inCapitals = <T extends object>(question: T) => ({ ...question, principal: { type: 'user', id: UPPER.principal }, accountId: UPPER.account });

describe('parseCheckRequest', () => {
  it('accepts a valid check, with or without an application', () => {
    expect(parseCheckRequest(valid)).toBe(valid);
    expect(parseCheckRequest({ ...valid, applicationId: '00000000-0000-4000-8000-000000000003' })).toBeDefined();
  });

  it('accepts UUIDs in upper case, and lower-cases them: they name the same principal, account and application', () => {
    expect(parseCheckRequest(inCapitals({ ...valid, applicationId: UPPER.application }))).toEqual({ ...lowered, section: 'scenarios', action: 'read' });
  });

  it('accepts a UUID of any version and variant, as PostgreSQL and the gateway do', () => {
    expect(parseCheckRequest({ ...valid, accountId: '00000000-0000-0000-0000-000000000001' })).toBeDefined();
  });

  it.each([
    ['not an object', 'x', 'check'],
    ['an unknown field', { ...valid, admin: true }, 'admin should not exist'],
    ['a robot principal', { ...valid, principal: { type: 'robot', id: valid.principal.id } }, 'principal.type'],
    ['a principal id that is no UUID', { ...valid, principal: { type: 'user', id: '1' } }, 'principal.id'],
    ['a principal with extra fields', { ...valid, principal: { ...valid.principal, role: 'x' } }, 'principal must hold only'],
    ['no account', { ...valid, accountId: undefined }, 'accountId'],
    ['an empty section', { ...valid, section: '' }, 'section'],
    ['a numeric action', { ...valid, action: 3 }, 'action'],
    ['a bad application id', { ...valid, applicationId: 'app-1' }, 'applicationId'],
    ['a UUID with a hyphen out of place', { ...valid, accountId: '000000000-000-4000-8000-000000000002' }, 'accountId must be a UUID'],
    ['a UUID with a letter past f', { ...valid, accountId: '00000000-0000-4000-8000-00000000000g' }, 'accountId must be a UUID'],
    ['a UUID with a non-ASCII digit', { ...valid, accountId: '00000000-0000-4000-8000-00000000000\u0663' }, 'accountId must be a UUID'],
    ['a UUID one character too long', { ...valid, accountId: `${valid.accountId}0` }, 'accountId must be a UUID'],
  ])('refuses %s', (_label, input, message) => {
    expect(() => parseCheckRequest(input)).toThrow(message);
  });
});

describe('parseCheckBatch', () => {
  it('names the failing check by its index', () => {
    expect(() => parseCheckBatch({ checks: [valid, { ...valid, section: 5 }] })).toThrow('checks.1.section');
    expect(() => parseCheckBatch({ checks: [valid, valid, null] })).toThrow('checks.2.check must be an object');
  });

  it('checks every UUID of every check, however many the batch has already seen', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ ...valid, applicationId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }));
    expect(parseCheckBatch({ checks: many })).toHaveLength(100);
    many[80] = { ...valid, applicationId: '00000000-0000-4000-8000-00000000008x' };
    expect(() => parseCheckBatch({ checks: many })).toThrow('checks.80.applicationId must be a UUID');
    expect(() => parseCheckBatch({ checks: [valid, { ...valid, accountId: `${valid.accountId} ` }] })).toThrow('checks.1.accountId must be a UUID');
  });

  it('lower-cases the UUIDs of every check', () => {
    const checks = parseCheckBatch({ checks: [inCapitals(valid), inCapitals({ ...valid, applicationId: UPPER.application })] });
    expect(checks).toEqual([
      { ...lowered, applicationId: undefined, section: 'scenarios', action: 'read' },
      { ...lowered, section: 'scenarios', action: 'read' },
    ]);
  });

  it('refuses more than 1000 checks and non-arrays', () => {
    expect(() => parseCheckBatch({ checks: new Array(1001).fill(valid) })).toThrow('at most 1000');
    expect(() => parseCheckBatch({ checks: 'all' })).toThrow('checks must be an array');
  });
});

describe('parseEffectivePermissionsRequest', () => {
  const question = { principal: valid.principal, accountId: valid.accountId };

  it('accepts a principal and an account, with or without an application', () => {
    expect(parseEffectivePermissionsRequest(question)).toBe(question);
    expect(parseEffectivePermissionsRequest({ ...question, applicationId: '00000000-0000-4000-8000-000000000003' })).toBeDefined();
  });

  it('lower-cases its UUIDs', () => {
    expect(parseEffectivePermissionsRequest(inCapitals({ applicationId: UPPER.application }))).toEqual(lowered);
  });

  it.each([
    ['a section (not part of this question)', { ...question, section: 'scenarios' }, 'section should not exist'],
    ['no principal', { accountId: valid.accountId }, 'principal must be an object'],
    ['a bad account id', { ...question, accountId: 'acme' }, 'accountId'],
    ['a bad application id', { ...question, applicationId: 7 }, 'applicationId'],
  ])('refuses %s', (_label, input, message) => {
    expect(() => parseEffectivePermissionsRequest(input)).toThrow(message);
  });
});

describe('parseBindingsOfPrincipalsRequest', () => {
  const request = { accountId: valid.accountId, principals: [valid.principal, { type: 'subuser', id: '00000000-0000-4000-8000-000000000009' }] };

  it('accepts an account and its principals', () => {
    expect(parseBindingsOfPrincipalsRequest(request)).toBe(request);
    expect(parseBindingsOfPrincipalsRequest({ ...request, principals: [] })).toBeDefined();
  });

  it('lower-cases its UUIDs', () => {
    const principals = [{ type: 'user', id: UPPER.principal }];
    expect(parseBindingsOfPrincipalsRequest({ accountId: UPPER.account, principals })).toEqual({
      accountId: lowered.accountId,
      principals: [lowered.principal],
    });
  });

  it.each([
    ['not an object', [], 'request must be an object'],
    ['an unknown field', { ...request, actor: valid.principal }, 'actor should not exist'],
    ['a bad account id', { ...request, accountId: 'acme' }, 'accountId must be a UUID'],
    ['principals that are no list', { ...request, principals: valid.principal }, 'principals must be an array'],
    ['more than 1000 principals', { ...request, principals: new Array(1001).fill(valid.principal) }, 'at most 1000'],
    ['a principal without a UUID', { ...request, principals: [valid.principal, { type: 'user', id: 'x' }] }, 'principals.1.id must be a UUID'],
    ['a principal of an unknown type', { ...request, principals: [{ type: 'robot', id: valid.principal.id }] }, 'principals.0.type must be one of'],
    ['a principal with extra fields', { ...request, principals: [{ ...valid.principal, role: 'Admin' }] }, 'principals.0 must hold only type and id'],
  ])('refuses %s', (_label, input, message) => {
    expect(() => parseBindingsOfPrincipalsRequest(input)).toThrow(message);
  });
});
