import { parse } from 'node:querystring';
import type { DomainError } from '#libs/errors/index.js';
import { createValidationPipe } from '#libs/platform/validation.js';
import { ListSubusersQuery } from './subusers.contract.js';
import { ListUsersQuery } from './users.contract.js';

const CUSTOM = '7d4a4f8e-2b7c-4d3e-9a51-0c6f1e2d3b4a';

/** A list's query as the gateway's pipe sees it: parsed by node:querystring, then validated. */
function read(query: string, metatype: typeof ListUsersQuery | typeof ListSubusersQuery = ListUsersQuery): Promise<unknown> {
  return createValidationPipe().transform(parse(query), { type: 'query', metatype });
}

async function refusal(query: string): Promise<DomainError> {
  try {
    await read(query);
  } catch (error) {
    return error as DomainError;
  }
  throw new Error(`expected ${query} to be refused`);
}

describe('the role filter of the user table and the subusers', () => {
  it.each([
    ['role=builtin:Admin', ['builtin:Admin']],
    [`role=${CUSTOM.toUpperCase()}`, [CUSTOM]],
    [`role=builtin:Admin&role=${CUSTOM}`, ['builtin:Admin', CUSTOM]],
    [`role=builtin:Admin,builtin:Developer&role=${CUSTOM}`, ['builtin:Admin', 'builtin:Developer', CUSTOM]],
    ['role=builtin:Admin%20Assistant', ['builtin:Admin Assistant']],
  ])('reads %s as any of %j', async (query, role) => {
    await expect(read(query)).resolves.toMatchObject({ role });
    await expect(read(query, ListSubusersQuery)).resolves.toMatchObject({ role });
  });

  it.each([
    ['role=Admin', 'role must name roles by id (a custom role\'s UUID, or builtin:<Name>): "Admin" is not one'],
    ['role=builtin:Admin,7d4a4f8e', 'role must name roles by id (a custom role\'s UUID, or builtin:<Name>): "7d4a4f8e" is not one'],
    ['role=', 'role must name roles by id (a custom role\'s UUID, or builtin:<Name>): "" is not one'],
    ['role=builtin:Admin,', 'role must name roles by id (a custom role\'s UUID, or builtin:<Name>): "" is not one'],
    ['role=builtin:Ad%00min', 'role must name roles by id (a custom role\'s UUID, or builtin:<Name>): "builtin:Ad\\u0000min" is not one'],
    [`role=builtin:${'x'.repeat(113)}`, `role must name roles by id (a custom role's UUID, or builtin:<Name>): "builtin:${'x'.repeat(113)}" is not one`],
    [`role=${Array.from({ length: 11 }, (_, index) => `builtin:R${index}`).join(',')}`, 'role names at most 10 roles'],
  ])('refuses %s with one message naming the field and the id: %s', async (query, message) => {
    const error = await refusal(query);
    expect({ code: error.code, message: error.message }).toEqual({ code: 'VALIDATION_FAILED', message });
  });

  it('takes the list as it is, as identity gets it from the gateway over NATS', async () => {
    const pipe = createValidationPipe();
    await expect(pipe.transform({ role: ['builtin:Admin', CUSTOM] }, { type: 'body', metatype: ListUsersQuery })).resolves.toMatchObject({
      role: ['builtin:Admin', CUSTOM],
    });
    await expect(pipe.transform({ role: [] }, { type: 'body', metatype: ListUsersQuery })).rejects.toThrow('role must name at least one role by id');
    await expect(pipe.transform({ role: [7] }, { type: 'body', metatype: ListUsersQuery })).rejects.toThrow('"7" is not one');
  });
});
