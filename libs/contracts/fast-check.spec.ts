import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CheckRequest } from './access.contract.js';
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

  it('accepts the account version its asker heard of, a whole number of 0 or more', () => {
    for (const atLeastVersion of [0, 1_733_240_000_000_000, Number.MAX_SAFE_INTEGER])
      expect(parseCheckRequest({ ...valid, atLeastVersion })).toMatchObject({ atLeastVersion });
  });

  it.each([-1, 1.5, '12', Number.MAX_SAFE_INTEGER + 1, Number.NaN])('refuses %p as the account version, as the DTO does', async (atLeastVersion) => {
    expect(() => parseCheckRequest({ ...valid, atLeastVersion })).toThrow('atLeastVersion must be an integer of 0 or more');
    expect(await validate(plainToInstance(CheckRequest, { ...valid, atLeastVersion }))).not.toEqual([]);
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

describe('section and action lengths: code points, as CheckRequest counts them on the HTTP side', () => {
  /** Texts of `count` code points made of `unit`, at and around the bounds (section 100, action 50). */
  const around = (unit: string) => [1, 49, 50, 51, 99, 100, 101, 199, 200, 201].map((count) => unit.repeat(count));
  const texts = ['x', '😀', '❤\uFE0F', 'x😀', '李'].flatMap(around);
  /** Whether the decorators of CheckRequest accept `field` set to `text`. */
  const dtoAccepts = async (field: 'section' | 'action', text: string) =>
    (await validate(plainToInstance(CheckRequest, { ...valid, [field]: text }))).length === 0;
  const parserAccepts = (field: 'section' | 'action', text: string) => {
    try {
      parseCheckRequest({ ...valid, principal: { ...valid.principal }, [field]: text });
      return true;
    } catch {
      return false;
    }
  };

  it.each([
    ['a section of 100 emoji (200 UTF-16 code units)', { section: '😀'.repeat(100) }],
    ['an action of 50 emoji (100 UTF-16 code units)', { action: '😀'.repeat(50) }],
    ['a section of 50 emoji each with a variation selector (100 code points)', { section: '❤\uFE0F'.repeat(50) }],
  ])('accepts %s', (_label, fields) => {
    expect(parseCheckRequest({ ...valid, principal: { ...valid.principal }, ...fields })).toMatchObject(fields);
  });

  it.each([
    ['a section of 101 emoji', { section: '😀'.repeat(101) }, 'section must be a string of 1 to 100 characters'],
    ['an action of 51 emoji', { action: '😀'.repeat(51) }, 'action must be a string of 1 to 50 characters'],
    [
      'an action of 26 emoji each with a variation selector (52 code points)',
      { action: '❤\uFE0F'.repeat(26) },
      'action must be a string of 1 to 50 characters',
    ],
  ])('refuses %s', (_label, fields, message) => {
    expect(() => parseCheckRequest({ ...valid, ...fields })).toThrow(message);
  });

  it.each(['section', 'action'] as const)('accepts exactly the %s values the DTO accepts, whatever their characters', async (field) => {
    for (const text of texts) expect([text.length, parserAccepts(field, text)]).toEqual([text.length, await dtoAccepts(field, text)]);
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
