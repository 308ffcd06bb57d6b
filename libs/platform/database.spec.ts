import { QueryFailedError } from 'typeorm';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { conflictOnDuplicate, MigrationFailed } from './database.js';
import { isDatabaseUnreachable, isLockTimeout, isQueryFailure, isTransactionConflict } from './database-errors.js';

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

describe('isQueryFailure', () => {
  it('knows the QueryFailedError of TypeORM by its name (database-errors.ts does not load TypeORM), and nothing else', () => {
    expect(isQueryFailure(failed('23505'))).toBe(true);
    expect(isQueryFailure(Object.assign(new Error('duplicate key value'), { code: '23505' }))).toBe(false);
    expect(isQueryFailure({ name: 'QueryFailedError', driverError: { code: '23505' } })).toBe(false);
  });
});

describe('isDatabaseUnreachable', () => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

  it.each([
    ['a refused connection', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset connection', withCode('ECONNRESET')],
    ['a lost connection (node-postgres gives no code)', new Error('Connection terminated unexpectedly')],
    ['a pool that got no connection in time', new Error('timeout exceeded when trying to connect')],
    ['a server shutting down (57P01), wrapped by TypeORM', failed('57P01')],
    ['a server starting up (57P03)', withCode('57P03')],
    ['a connection exception (class 08)', failed('08006')],
    ['too many connections (53300)', failed('53300')],
  ])('is true of %s', (_label, error) => {
    expect(isDatabaseUnreachable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', failed('23505')],
    ['a protocol violation (08P01: a bug, such as a wrong number of parameters)', failed('08P01')],
    ['a statement timeout (57014: the database answered)', failed('57014')],
    ['a plain error', new Error('undefined is not a function')],
    ['a domain error', new DomainError(ErrorCode.NotFound, 'gone')],
    ['something not an error', 'ECONNREFUSED'],
  ])('is false of %s', (_label, error) => {
    expect(isDatabaseUnreachable(error)).toBe(false);
  });
});

describe('isTransactionConflict', () => {
  it.each([
    ['a deadlock (40P01)', failed('40P01'), true],
    ['a serialization failure (40001)', failed('40001'), true],
    ['a unique violation', failed('23505'), false],
    ['a lock timeout (55P03: waited, met nobody circular)', failed('55P03'), false],
    ['a plain error carrying the code', Object.assign(new Error('x'), { code: '40P01' }), false],
  ])('of %s is %s', (_label, error, expected) => {
    expect(isTransactionConflict(error)).toBe(expected);
  });
});

describe('isLockTimeout', () => {
  it.each([
    ['a lock timeout as TypeORM reports it (55P03)', failed('55P03'), true],
    ['a lock timeout straight from the driver', Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' }), true],
    ['a statement timeout (57014)', failed('57014'), false],
    ['a deadlock', failed('40P01'), false],
    ['nothing', undefined, false],
  ])('of %s is %s', (_label, error, expected) => {
    expect(isLockTimeout(error)).toBe(expected);
  });
});

describe('MigrationFailed', () => {
  it('names the schema, the migration and the cause in one line, and for a busy table says what to do', () => {
    const lockTimeout = new QueryFailedError('ALTER TABLE ...', [], Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' }));
    const failure = new MigrationFailed('identity', 'SecondStepBlock1735000000000', lockTimeout);
    expect(failure.message).toMatch(
      /^identity: SecondStepBlock1735000000000 gave up: canceling statement due to lock timeout \(a table it changes stayed in use longer than MIGRATION_LOCK_TIMEOUT_MS;/,
    );
    expect(failure.message).not.toContain('\n');
  });

  it('says only the cause when it is not a busy table, and "a migration" when which one is not known', () => {
    expect(new MigrationFailed('access', undefined, new Error('relation "x" does not exist')).message).toBe(
      'access: a migration gave up: relation "x" does not exist',
    );
  });
});
