import { QueryFailedError } from 'typeorm';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { conflictOnDuplicate } from './database.js';

/** A failed query as TypeORM reports it, with PostgreSQL's error code and constraint. */
function failed(code: string, constraint?: string): QueryFailedError {
  return new QueryFailedError('INSERT ...', [], Object.assign(new Error('duplicate key value'), { code, constraint }));
}

/** What the handler throws for `error`. */
function thrownBy(handler: (error: unknown) => never, error: unknown): unknown {
  try {
    handler(error);
  } catch (thrown) {
    return thrown;
  }
  throw new Error('the handler returned');
}

describe('conflictOnDuplicate', () => {
  const nameTaken = conflictOnDuplicate('This name is taken', 'name');

  it('turns a unique violation (23505) into a 409 CONFLICT naming the field', () => {
    const thrown = thrownBy(nameTaken, failed('23505', 'roles_account_name'));
    expect(thrown).toBeInstanceOf(DomainError);
    expect((thrown as DomainError).toPayload()).toEqual({ code: ErrorCode.Conflict, message: 'This name is taken', details: { field: 'name' } });
  });

  it('passes any other error on unchanged', () => {
    const foreignKey = failed('23503');
    const plain = new Error('connection lost');
    expect(thrownBy(nameTaken, foreignKey)).toBe(foreignKey);
    expect(thrownBy(nameTaken, plain)).toBe(plain);
  });

  it('keeps to the constraints it is given', () => {
    const slugTaken = conflictOnDuplicate('This slug is taken', 'slug', /slug/);
    expect(thrownBy(slugTaken, failed('23505', 'accounts_slug_key'))).toBeInstanceOf(DomainError);
    const other = failed('23505', 'accounts_pkey');
    expect(thrownBy(slugTaken, other)).toBe(other);
  });
});
