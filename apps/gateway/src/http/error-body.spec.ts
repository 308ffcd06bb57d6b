import { BadRequestException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { toErrorResponse } from './error-body.js';

describe('toErrorResponse', () => {
  it('maps a domain error through the status table and adds the request id', () => {
    const response = toErrorResponse(new DomainError(ErrorCode.Conflict, 'taken'), 'r-1');
    expect(response).toEqual({ status: 409, body: { code: 'CONFLICT', message: 'taken', requestId: 'r-1' }, unexpected: false });
  });

  it.each([
    [new NotFoundException(), 404, 'ROUTE_NOT_FOUND'],
    [new UnauthorizedException(), 401, 'UNAUTHENTICATED'],
    [new BadRequestException('bad'), 400, 'VALIDATION_FAILED'],
    [Object.assign(new Error('x'), { type: 'entity.parse.failed', status: 400 }), 400, 'MALFORMED_JSON'],
    [Object.assign(new Error('x'), { type: 'entity.too.large', status: 413 }), 413, 'PAYLOAD_TOO_LARGE'],
  ])('maps %p', (error, status, code) => {
    const response = toErrorResponse(error, 'r-2');
    expect(response.status).toBe(status);
    expect(response.body.code).toBe(code);
  });

  it('hides anything unexpected behind a bare 500', () => {
    const response = toErrorResponse(new TypeError('secret detail at /app/x.js:10'), 'r-3');
    expect(response.status).toBe(500);
    expect(response.body.message).toBe('Internal error');
    expect(response.unexpected).toBe(true);
  });
});
