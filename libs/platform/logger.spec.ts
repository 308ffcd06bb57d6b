import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { createLogger } from './logger.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';

/** The JSON lines a logger wrote. */
function loggerWithLines(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const written: string[] = [];
  const logger = createLogger('test', 'info', { write: (line: string) => void written.push(line) });
  return { logger, lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>), text: () => written.join('') };
}

/** A failed statement as TypeORM reports it: PostgreSQL's error, with the statement and its values. */
function failedStatement(): QueryFailedError {
  const driverError = new DatabaseError('null value in column "email" of relation "users" violates not-null constraint', 0, 'error');
  Object.assign(driverError, { code: '23502', table: 'users', column: 'email', detail: `Failing row contains (1, null, ${HASH}).` });
  return new QueryFailedError('UPDATE users SET password_hash = $1 WHERE id = $2', [HASH, 'user-1'], driverError);
}

describe('createLogger', () => {
  it('never writes the values of a failed statement (P6): neither its parameters nor the failing row, at any depth', () => {
    const { logger, text } = loggerWithLines();
    logger.error({ err: failedStatement() }, 'Sign-in failed');
    logger.error({ err: new Error('Could not commit', { cause: failedStatement() }) }, 'Wrapped');
    logger.error({ err: new AggregateError([new Error('first'), failedStatement()], 'Both failed') }, 'A list of errors');
    expect(text()).not.toContain('argon2id');
    expect(text()).not.toContain('Failing row');
  });

  it('still says what failed: the message, the code, the table and column, the statement text', () => {
    const { logger, lines } = loggerWithLines();
    logger.error({ err: failedStatement() }, 'Sign-in failed');
    const err = lines()[0].err as Record<string, unknown>;
    expect(err).toMatchObject({
      type: 'QueryFailedError',
      code: '23502',
      table: 'users',
      column: 'email',
      query: 'UPDATE users SET password_hash = $1 WHERE id = $2',
    });
    expect(err.message).toContain('violates not-null constraint');
    expect(err).not.toHaveProperty('parameters');
    expect(err).not.toHaveProperty('detail');
    expect((err.driverError as Record<string, unknown>).code).toBe('23502');
    expect(err.driverError).not.toHaveProperty('detail');
  });

  it('serializes other errors as pino does, with their stack and own fields', () => {
    const { logger, lines } = loggerWithLines();
    logger.warn({ err: Object.assign(new Error('NATS is away'), { subject: 'identity.users.list' }) }, 'Could not ask');
    expect(lines()[0].err).toMatchObject({ type: 'Error', message: 'NATS is away', subject: 'identity.users.list' });
    expect((lines()[0].err as { stack: string }).stack).toContain('logger.spec');
  });

  it('keeps redacting passwords and tokens in logged objects', () => {
    const { logger, text } = loggerWithLines();
    logger.info({ body: { password: 'correct horse', token: 'abc123token' } }, 'Request');
    expect(text()).not.toContain('correct horse');
    expect(text()).not.toContain('abc123token');
  });
});
