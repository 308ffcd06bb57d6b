import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CheckRequest, CreateRoleBody, ReplaceBindingsRequest, UpdateRoleBody } from './access.contract.js';
import { TransferOwnershipBody } from './accounts.contract.js';

/** The instance the services' validation pipe hands on, and the problems it found. */
function validated<T extends object>(type: new () => T, plain: object): { value: T; problems: string[] } {
  const value = plainToInstance(type, plain);
  const problems = validateSync(value, { whitelist: true, forbidNonWhitelisted: true }).flatMap(function messages(error): string[] {
    return [...Object.values(error.constraints ?? {}), ...(error.children ?? []).flatMap(messages)];
  });
  return { value, problems };
}

const ID = 'ABCDEF00-0000-4000-8000-00000000000A';

describe('UUID fields of the contracts', () => {
  it('lower-case an id in capitals, in a nested principal too: it names the same principal as in lower case', () => {
    const { value, problems } = validated(CheckRequest, { principal: { type: 'user', id: ID }, accountId: ID, section: 's', action: 'a', applicationId: ID });
    expect(problems).toEqual([]);
    expect(value).toMatchObject({ principal: { id: ID.toLowerCase() }, accountId: ID.toLowerCase(), applicationId: ID.toLowerCase() });
    expect(validated(TransferOwnershipBody, { userId: ID, previousOwnerRole: 'Admin' }).value.userId).toBe(ID.toLowerCase());
  });

  it('lower-case every id of a list, the bindings a replacement expects too (compared with those held, in lower case)', () => {
    const request = {
      actor: { type: 'user', id: ID },
      accountId: ID,
      principal: { type: 'subuser', id: ID },
      bindings: [{ role: 'Developer', applicationIds: [ID, 'ABCDEF00-0000-4000-8000-00000000000B'] }],
      expected: [{ role: 'builtin:Developer', applicationIds: [ID] }],
    };
    const { value, problems } = validated(ReplaceBindingsRequest, request);
    expect(problems).toEqual([]);
    expect(value.bindings[0].applicationIds).toEqual([ID.toLowerCase(), 'abcdef00-0000-4000-8000-00000000000b']);
    expect(value.expected?.[0].applicationIds).toEqual([ID.toLowerCase()]);
  });

  it('take a UUID of any version or variant, as the gateway does (what names nothing is a 404 there, not a 400 here)', () => {
    expect(validated(TransferOwnershipBody, { userId: '00000000-0000-0000-0000-000000000001', previousOwnerRole: 'Admin' }).problems).toEqual([]);
  });

  it.each([['x'], [7], [`${ID}0`], [['not-an-id']]])('refuse %j, naming the field', (userId) => {
    expect(validated(TransferOwnershipBody, { userId, previousOwnerRole: 'Admin' }).problems).toEqual(['userId must be a UUID']);
  });
});

describe('role names that read as ids', () => {
  it.each([ID, ID.toLowerCase(), '00000000-0000-0000-0000-000000000000'])('are refused, naming name, on a creation (a clone too) and a rename: %s', (name) => {
    expect(validated(CreateRoleBody, { name, grants: [] }).problems).toEqual([expect.stringContaining('name must not be a UUID')]);
    expect(validated(CreateRoleBody, { name, from: 'Developer' }).problems).toEqual([expect.stringContaining('name must not be a UUID')]);
    expect(validated(UpdateRoleBody, { name }).problems).toEqual([expect.stringContaining('name must not be a UUID')]);
  });

  it.each(['Call auditor', `${ID} team`, ID.slice(1)])('are not refused when they are no UUID: %s', (name) => {
    expect(validated(CreateRoleBody, { name, grants: [] }).problems).toEqual([]);
    expect(validated(UpdateRoleBody, { name }).problems).toEqual([]);
  });
});
