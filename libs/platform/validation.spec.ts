import { CreateAccountBody } from '#libs/contracts/index.js';
import { DomainError } from '#libs/errors/index.js';
import { createValidationPipe } from './validation.js';

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
