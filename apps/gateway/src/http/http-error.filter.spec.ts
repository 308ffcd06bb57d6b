import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { withoutRequestBody } from './http-error.filter.js';

describe('an error as it is logged', () => {
  it('leaves out the raw request body that body-parser hangs on its errors (a password, say), keeping the rest', () => {
    const error = Object.assign(new DomainError(ErrorCode.ValidationFailed, 'The request body is not valid UTF-8'), {
      body: '{"password":"correct horse battery staple"}',
      type: 'entity.verify.failed',
    });

    const logged = withoutRequestBody(error) as DomainError & { type: string };

    expect(logged).toBeInstanceOf(DomainError);
    expect(logged).not.toHaveProperty('body');
    expect(logged).toMatchObject({ code: ErrorCode.ValidationFailed, message: 'The request body is not valid UTF-8', type: 'entity.verify.failed' });
    expect(logged.stack).toBe(error.stack);
    expect(error.body).toContain('correct horse');
  });

  it('is the same error when it carries no body', () => {
    const error = new Error('boom');
    expect(withoutRequestBody(error)).toBe(error);
    expect(withoutRequestBody('not an error')).toBe('not an error');
  });
});
