import { getMetadataStorage, IsInt, IsString } from 'class-validator';
import { CreateAccountBody } from '#libs/contracts/index.js';
import { DomainError } from '#libs/errors/index.js';
import { createValidationPipe, rememberValidationMetadata } from './validation.js';

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

  it('refuses unknown fields by name', async () => {
    const error = await validate({ ...valid, owner: { ...valid.owner, isAdmin: true } });
    expect(error.message).toContain('owner.isAdmin should not exist');
  });

  it('lists every problem in details', async () => {
    const error = await validate({ slug: 'BAD' });
    expect((error.details as { problems: string[] }).problems.length).toBeGreaterThanOrEqual(3);
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
