import { parse } from 'node:querystring';
import { jest } from '@jest/globals';
import { ValidationPipe } from '@nestjs/common';
import { Type } from 'class-transformer';
import { getMetadataStorage, IsDate, IsInt, IsOptional, IsString } from 'class-validator';
import { CreateAccountBody } from '#libs/contracts/index.js';
import { DomainError } from '#libs/errors/index.js';
import { createValidationPipe, QueryRememberingValidationPipe, rememberValidationMetadata } from './validation.js';

async function validate(body: unknown): Promise<DomainError> {
  try {
    await createValidationPipe().transform(body, { type: 'body', metatype: CreateAccountBody });
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected a validation error');
}

const valid = { name: 'Acme', slug: 'acme', owner: { firstName: 'A', lastName: 'B', email: 'a@b.test', phone: '+447700900123' } };

describe('the validation pipe', () => {
  it('accepts a valid body', async () => {
    await expect(createValidationPipe().transform(valid, { type: 'body', metatype: CreateAccountBody })).resolves.toBeInstanceOf(CreateAccountBody);
  });

  it('names nested fields with their path', async () => {
    const error = await validate({ ...valid, owner: { ...valid.owner, phone: '0777' } });
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain('owner.phone');
  });

  it('refuses a control character in a name, naming the field by its path (the gateway and every service use this pipe)', async () => {
    const error = await validate({ ...valid, owner: { ...valid.owner, firstName: '\u001b[31mAda' } });
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toBe('owner.firstName must not hold control characters, direction overrides or line separators');
  });

  it('refuses unknown fields by name', async () => {
    const error = await validate({ ...valid, owner: { ...valid.owner, isAdmin: true } });
    expect(error.message).toContain('owner.isAdmin should not exist');
  });

  it('names the broken fields for a program to mark in its form: each once, the first as `field`, as the services name theirs', async () => {
    const error = await validate({ ...valid, slug: 'BAD', owner: { ...valid.owner, phone: '0777', isAdmin: true } });
    expect(error.details).toMatchObject({ field: 'slug', fields: ['slug', 'owner.isAdmin', 'owner.phone'] });
    const many = await validate({ ...valid, ...Object.fromEntries(Array.from({ length: 500 }, (_, index) => [`field${index}`, 1])) });
    expect((many.details as { fields: string[] }).fields).toHaveLength(20);
  });

  it('says a missing required field is required, once, rather than every rule it fails; a null is judged as given', async () => {
    const missing = await validate({ ...valid, owner: { ...valid.owner, email: undefined } });
    expect((missing.details as { problems: string[] }).problems).toEqual(['owner.email is required']);
    const nulled = await validate({ ...valid, owner: { ...valid.owner, email: null } });
    expect((nulled.details as { problems: string[] }).problems).not.toContain('owner.email is required');
  });

  it('lists every problem in details', async () => {
    const error = await validate({ slug: 'BAD' });
    expect((error.details as { problems: string[] }).problems.length).toBeGreaterThanOrEqual(3);
  });

  it('never echoes a field name at length, nor lists more than 20 problems: the rest are counted (L3)', async () => {
    const longName = 'x'.repeat(90_000);
    const long = await validate({ ...valid, [longName]: 1 });
    expect(long.message.length).toBeLessThan(200);
    expect(long.message).toMatch(/^field x{63}… should not exist$/);
    const unknown = Object.fromEntries(Array.from({ length: 500 }, (_, index) => [`field${index}`, 1]));
    const many = await validate({ ...valid, ...unknown });
    const problems = (many.details as { problems: string[] }).problems;
    expect(problems).toHaveLength(21);
    expect(problems[20]).toBe('and 480 more problems');
    expect(many.message.length).toBeLessThan(2000);
  });
});

describe('remembered validation rules', () => {
  const storage = getMetadataStorage();

  it('hands out the same rules for the same class and options, and works them out again once a decorator adds one', () => {
    rememberValidationMetadata();
    class Parent {
      @IsString() name!: string;
    }
    const first = storage.getTargetValidationMetadatas(Parent, '', false, false);
    expect(storage.getTargetValidationMetadatas(Parent, '', false, false)).toBe(first);
    expect(first.map((rule) => rule.propertyName)).toEqual(['name']);
    // A class defined later, inheriting Parent's rules: its own rule invalidates what was remembered.
    class Child extends Parent {
      @IsInt() age!: number;
    }
    expect(
      storage
        .getTargetValidationMetadatas(Child, '', false, false)
        .map((rule) => rule.propertyName)
        .sort(),
    ).toEqual(['age', 'name']);
    expect(storage.getTargetValidationMetadatas(Parent, '', false, false)).not.toBe(first);
    expect(storage.getTargetValidationMetadatas(Parent, '', false, false, ['admin'])).toEqual([]);
  });

  it('still refuses what it refused before, on every call', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const error = await validate({ ...valid, owner: { ...valid.owner, phone: '0777' } });
      expect(error.message).toContain('owner.phone');
    }
  });
});

describe('remembered queries', () => {
  class SomeQuery {
    @IsOptional() @Type(() => Number) @IsInt() limit?: number;
    @IsOptional() @IsString() q?: string;
    @IsOptional() @Type(() => Date) @IsDate() since?: Date;
  }
  const asQuery = { type: 'query' as const, metatype: SomeQuery };
  /** A query as Express 5 parses it (node:querystring: an object without a prototype). */
  const parsed = (query: string) => parse(query) as Record<string, string>;
  let fullValidations: jest.SpiedFunction<ValidationPipe['transform']>;

  beforeEach(() => {
    fullValidations = jest.spyOn(ValidationPipe.prototype, 'transform');
  });
  afterEach(() => fullValidations.mockRestore());

  it('validates a query seen before only once, and hands out a new instance with the validated values each time', async () => {
    const pipe = createValidationPipe();
    const first = (await pipe.transform(parsed('limit=20&q=ann'), asQuery)) as SomeQuery;
    first.limit = 99;
    const second = (await pipe.transform(parsed('limit=20&q=ann'), asQuery)) as SomeQuery;
    expect(second).toBeInstanceOf(SomeQuery);
    expect(second).not.toBe(first);
    expect({ ...second }).toEqual({ limit: 20, q: 'ann' });
    expect(fullValidations).toHaveBeenCalledTimes(1);
  });

  it('refuses a bad query every time, next to a remembered good one', async () => {
    const pipe = createValidationPipe();
    await pipe.transform(parsed('limit=20'), asQuery);
    for (let i = 0; i < 2; i += 1) {
      await expect(pipe.transform(parsed('limit=many'), asQuery)).rejects.toThrow('limit');
      await expect(pipe.transform(parsed('limit=20&admin=true'), asQuery)).rejects.toThrow('admin should not exist');
      await expect(pipe.transform(parsed('limit=20&__proto__=x'), asQuery)).resolves.toEqual(Object.assign(new SomeQuery(), { limit: 20 }));
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    // The refusals each time; the good query with __proto__ once (Nest drops that key), then remembered.
    expect(fullValidations).toHaveBeenCalledTimes(6);
  });

  it('validates in full what it cannot tell apart by its JSON or copy whole: repeated fields, objects made from a field, long queries, bodies', async () => {
    const pipe = createValidationPipe();
    for (let i = 0; i < 2; i += 1) {
      await expect(pipe.transform(parsed('q=a&q=b'), asQuery)).rejects.toThrow('q must be a string');
      const withDate = (await pipe.transform(parsed('since=2026-01-02'), asQuery)) as SomeQuery;
      expect(withDate.since).toEqual(new Date('2026-01-02'));
      await expect(pipe.transform(parsed(`limit=${'0'.repeat(2000)}7`), asQuery)).resolves.toMatchObject({ limit: 7 });
      await pipe.transform({ limit: '20' }, { type: 'body', metatype: SomeQuery });
    }
    expect(fullValidations).toHaveBeenCalledTimes(8);
  });

  it('remembers at most so many queries of a class, then starts afresh', async () => {
    const pipe = new QueryRememberingValidationPipe({ transform: true }, 2);
    for (const limit of ['1', '2', '3', '1']) await pipe.transform(parsed(`limit=${limit}`), asQuery);
    expect(fullValidations).toHaveBeenCalledTimes(4);
    await pipe.transform(parsed('limit=1'), asQuery);
    expect(fullValidations).toHaveBeenCalledTimes(4);
  });
});
