import { DomainError } from './domain-error.js';
import { ErrorCode, HTTP_STATUS_BY_CODE, isErrorCode } from './error-codes.js';

describe('error codes', () => {
  it('map every code to a 4xx or 5xx status', () => {
    for (const code of Object.values(ErrorCode)) expect(HTTP_STATUS_BY_CODE[code]).toBeGreaterThanOrEqual(400);
  });

  it.each([
    [ErrorCode.ValidationFailed, 400],
    [ErrorCode.Unauthenticated, 401],
    [ErrorCode.Forbidden, 403],
    [ErrorCode.NotFound, 404],
    [ErrorCode.Conflict, 409],
    [ErrorCode.TooManyRequests, 429],
    [ErrorCode.ServiceUnavailable, 503],
    [ErrorCode.UpstreamTimeout, 504],
  ])('%s -> %i', (code, status) => {
    expect(HTTP_STATUS_BY_CODE[code]).toBe(status);
  });

  it('recognises codes', () => {
    expect(isErrorCode('NOT_FOUND')).toBe(true);
    expect(isErrorCode('nope')).toBe(false);
  });
});

describe('DomainError on the wire', () => {
  it('round-trips code, message and details', () => {
    const error = new DomainError(ErrorCode.Conflict, 'taken', { field: 'slug' });
    expect(DomainError.fromPayload(JSON.parse(JSON.stringify(error.toPayload())))).toMatchObject({
      code: 'CONFLICT',
      message: 'taken',
      details: { field: 'slug' },
    });
  });

  it.each([null, 'boom', { code: 'WHATEVER', message: 'x' }, { code: 'NOT_FOUND' }])('turns %p into INTERNAL', (payload) => {
    expect(DomainError.fromPayload(payload).code).toBe(ErrorCode.Internal);
  });
});
