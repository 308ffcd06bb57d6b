import { parse } from 'node:querystring';
import { IsOptional } from 'class-validator';
import type { DomainError } from '#libs/errors/index.js';
import { createValidationPipe } from '#libs/platform/validation.js';
import { ListDeliveriesQuery } from './deliveries.contract.js';
import { PageQuery } from './account-request.js';
import { ListUsersQuery } from './users.contract.js';
import { AuditQuery } from './audit.contract.js';
import { QueryInteger } from './query-integer.js';

type QueryClass = new () => object;

/** A query as the gateway's pipe sees it: parsed by node:querystring, validated (and remembered) by the pipe of every app. */
async function read(type: QueryClass, query: string): Promise<unknown> {
  return createValidationPipe().transform(parse(query), { type: 'query', metatype: type });
}

async function refusal(type: QueryClass, query: string): Promise<DomainError> {
  try {
    await read(type, query);
  } catch (error) {
    return error as DomainError;
  }
  throw new Error(`expected ${query} to be refused`);
}

const PAGED: Array<[string, QueryClass]> = [
  ['PageQuery', PageQuery],
  ['ListUsersQuery', ListUsersQuery],
  ['AuditQuery', AuditQuery],
  ['ListDeliveriesQuery', ListDeliveriesQuery],
];

describe.each(PAGED)('the limit of %s', (_name, type) => {
  it.each([
    ['5', 5],
    ['100', 100],
    ['007', 7],
  ])('reads %s as %d', async (text, value) => {
    await expect(read(type, `limit=${encodeURIComponent(text)}`)).resolves.toMatchObject({ limit: value });
  });

  it.each([
    ['0x10', 'hexadecimal'],
    ['1e1', 'an exponent'],
    [' 5', 'a leading space'],
    ['5 ', 'a trailing space'],
    ['\t5', 'a tab'],
    ['+5', 'a plus sign'],
    ['-5', 'a minus sign (no negative page size)'],
    ['5.0', 'a decimal point'],
    ['0b101', 'binary'],
    ['0o7', 'octal'],
    ['Infinity', 'Infinity'],
    ['٥', 'a digit of another script'],
    ['', 'nothing'],
  ])('refuses %j (%s) with 400 VALIDATION_FAILED naming limit', async (text) => {
    const error = await refusal(type, `limit=${encodeURIComponent(text)}`);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain('limit must be a whole number written in decimal digits only');
  });

  it.each([
    ['limit=1&limit=2', 'limit must be given once'],
    ['limit=', 'limit must be a whole number written in decimal digits only'],
    ['limit=0', 'limit must not be less than 1'],
  ])('refuses %s with one message for its one problem: %s', async (query, message) => {
    const error = await refusal(type, query);
    expect({ code: error.code, message: error.message }).toEqual({ code: 'VALIDATION_FAILED', message });
  });

  it('refuses a limit past its maximum, saying the maximum', async () => {
    expect((await refusal(type, 'limit=100000')).message).toMatch(/^limit must not be greater than \d+$/);
  });

  it('refuses a refused form every time, next to a remembered good one (the read is a pure function of the query)', async () => {
    const pipe = createValidationPipe();
    for (let i = 0; i < 2; i += 1) {
      await expect(pipe.transform(parse('limit=16'), { type: 'query', metatype: type })).resolves.toMatchObject({ limit: 16 });
      await expect(pipe.transform(parse('limit=0x10'), { type: 'query', metatype: type })).rejects.toThrow('limit');
    }
  });

  it('takes a number as it is, as the services get it from the gateway over NATS', async () => {
    const pipe = createValidationPipe();
    await expect(pipe.transform({ limit: 20 }, { type: 'body', metatype: type })).resolves.toMatchObject({ limit: 20 });
    await expect(pipe.transform({ limit: 1.5 }, { type: 'body', metatype: type })).rejects.toThrow('limit must be a whole number');
  });
});

describe('QueryInteger({ negative: true })', () => {
  class OffsetQuery {
    @IsOptional()
    @QueryInteger({ negative: true })
    offset?: number;
  }

  it('takes a leading minus where negatives make sense, and nothing else', async () => {
    await expect(read(OffsetQuery, 'offset=-12')).resolves.toMatchObject({ offset: -12 });
    await expect(read(OffsetQuery, 'offset=12')).resolves.toMatchObject({ offset: 12 });
    for (const text of ['--12', '- 12', '+12', '-0x10', '-1e1', '-']) {
      expect((await refusal(OffsetQuery, `offset=${encodeURIComponent(text)}`)).message).toBe(
        'offset must be a whole number written in decimal digits only, after an optional minus',
      );
    }
  });
});
