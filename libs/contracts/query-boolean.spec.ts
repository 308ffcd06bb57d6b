import { parse } from 'node:querystring';
import type { DomainError } from '#libs/errors/index.js';
import { createValidationPipe } from '#libs/platform/validation.js';
import { ListSubusersQuery } from './subusers.contract.js';
import { ListUsersQuery, SEARCH_TOO_SHORT } from './users.contract.js';

/** The subusers' query as the gateway's pipe sees it: parsed by node:querystring, then validated. */
async function read(query: string): Promise<unknown> {
  return createValidationPipe().transform(parse(query), { type: 'query', metatype: ListSubusersQuery });
}

async function refusal(query: string): Promise<DomainError> {
  try {
    await read(query);
  } catch (error) {
    return error as DomainError;
  }
  throw new Error(`expected ${query} to be refused`);
}

describe('the subusers query', () => {
  it.each([
    ['active=true', { active: true }],
    ['active=false', { active: false }],
    ['status=pending&search=ops%20desk', { status: 'pending', search: 'ops desk' }],
  ])('reads %s', async (query, expected) => {
    await expect(read(query)).resolves.toMatchObject(expected);
  });

  it.each([
    ['active=yes', 'active must be true or false'],
    ['active=1', 'active must be true or false'],
    ['active=TRUE', 'active must be true or false'],
    ['active=', 'active must be true or false'],
    ['active=true&active=false', 'active must be given once'],
    ['status=blocked', 'status must be one of the following values: pending, active'],
    ['search=ab', SEARCH_TOO_SHORT],
  ])('refuses %s with one message naming the field: %s', async (query, message) => {
    const error = await refusal(query);
    expect({ code: error.code, message: error.message }).toEqual({ code: 'VALIDATION_FAILED', message });
  });

  it('reads the same filters of the user table', async () => {
    const query = await createValidationPipe().transform(parse('status=pending&active=false'), { type: 'query', metatype: ListUsersQuery });
    expect(query).toMatchObject({ status: 'pending', active: false });
    await expect(createValidationPipe().transform(parse('active=no'), { type: 'query', metatype: ListUsersQuery })).rejects.toThrow(
      'active must be true or false',
    );
  });

  it('takes a boolean as it is, as identity gets it from the gateway over NATS', async () => {
    const pipe = createValidationPipe();
    await expect(pipe.transform({ active: false }, { type: 'body', metatype: ListSubusersQuery })).resolves.toMatchObject({ active: false });
    await expect(pipe.transform({ active: 'false' }, { type: 'body', metatype: ListSubusersQuery })).resolves.toMatchObject({ active: false });
    await expect(pipe.transform({ active: 0 }, { type: 'body', metatype: ListSubusersQuery })).rejects.toThrow('active must be true or false');
  });
});
