import { HttpException } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DomainError, ErrorCode, HTTP_STATUS_BY_CODE, type ErrorPayload } from '#libs/errors/index.js';

/** The body of every HTTP error. */
export interface ErrorBody extends ErrorPayload {
  requestId: string;
}

/** {@link ErrorBody}, as the OpenAPI description shows it (every route's error answers). */
export class ErrorView implements ErrorBody {
  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', description: 'What went wrong, for a program (the HTTP status follows from it)' })
  code: ErrorCode;
  @ApiProperty({ description: 'What went wrong, for a person: names the field or the permission at fault' }) message: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'For a 400: `field` (the first field at fault, by its path), `fields` and `problems` (a body that failed validation); `retry: true` (409: try the same request again); `retryAfterSeconds` (429)',
  })
  details?: ErrorPayload['details'];
  @ApiProperty({ description: 'Also in the x-request-id header; quote it to the operator' }) requestId: string;
}

/** Status and body for anything thrown while serving the request `requestId`. Unknown errors become a bare 500. */
export function toErrorResponse(error: unknown, requestId: string): { status: number; body: ErrorBody; unexpected: boolean } {
  const domain = toDomainError(error);
  const body: ErrorBody = { ...(domain ?? new DomainError(ErrorCode.Internal, 'Internal error')).toPayload(), requestId };
  return { status: HTTP_STATUS_BY_CODE[body.code], body, unexpected: domain === undefined };
}

function toDomainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  if (error instanceof HttpException) return fromHttpException(error);
  return fromBodyParser(error);
}

const CODE_BY_HTTP_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthenticated,
  403: ErrorCode.Forbidden,
  404: ErrorCode.RouteNotFound,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  429: ErrorCode.TooManyRequests,
};

function fromHttpException(error: HttpException): DomainError | undefined {
  const code = CODE_BY_HTTP_STATUS[error.getStatus()];
  if (!code) return error.getStatus() < 500 ? new DomainError(ErrorCode.ValidationFailed, error.message) : undefined;
  const message = code === ErrorCode.RouteNotFound ? 'No such route' : code === ErrorCode.Unauthenticated ? 'A valid access token is required' : error.message;
  return new DomainError(code, message);
}

/** body-parser errors carry `type` and `status`. */
function fromBodyParser(error: unknown): DomainError | undefined {
  const { type, status } = (error ?? {}) as { type?: string; status?: number };
  if (type === 'entity.parse.failed') return new DomainError(ErrorCode.MalformedJson, 'The request body is not valid JSON');
  if (type === 'entity.too.large') return new DomainError(ErrorCode.PayloadTooLarge, 'The request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new DomainError(ErrorCode.ValidationFailed, 'Unsupported body encoding');
  if (typeof status === 'number' && status >= 400 && status < 500) return new DomainError(ErrorCode.ValidationFailed, 'The request body could not be read');
  return undefined;
}
