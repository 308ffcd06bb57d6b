import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Actor } from '#libs/contracts/index.js';
import { ErrorCode } from '#libs/errors/index.js';
import { toErrorResponse } from './error-body.js';
import { clientIpOf } from '../auth/current-actor.decorator.js';
import { requestIdOf, type GatewayRequest } from './request-id.middleware.js';

/** Answers that refuse a caller: each is logged (B4), without the token or the body. */
const DENIALS = new Set<string>([ErrorCode.Unauthenticated, ErrorCode.Forbidden]);

/** Writes `{ code, message, details?, requestId }` for every error; stacks go to the log only. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    writeError(this.logger, exception, http.getResponse<Response>(), http.getRequest<Request & { user?: Actor }>());
  }
}

/** The same for errors raised by Express middleware (body parsing) before Nest sees the request. */
export function expressErrorHandler(logger: Logger) {
  return (error: unknown, request: Request, response: Response, next: NextFunction): void => {
    if (response.headersSent) return next(error);
    writeError(logger, error, response, request as Request & { user?: Actor });
  };
}

function writeError(logger: Logger, exception: unknown, response: Response, request: Request & { user?: Actor }): void {
  const requestId = requestIdOf(request);
  const { status, body, unexpected } = toErrorResponse(exception, requestId);
  if (unexpected) logger.error({ err: withoutRequestBody(exception), requestId }, 'Unexpected error while serving a request');
  const denied = (request as GatewayRequest).accessDenied;
  if (DENIALS.has(body.code) || denied) {
    const route = (request.route as { path?: string } | undefined)?.path;
    const actor = request.user ? `${request.user.type}:${request.user.id}` : null;
    logger.warn(
      {
        event: 'access-denied',
        requestId,
        code: body.code,
        ...(denied && { reason: denied }),
        method: request.method,
        route: route ? `${request.baseUrl}${route}` : 'unmatched',
        actor,
        ip: clientIpOf(request),
      },
      'Access denied',
    );
  }
  const retryAfter = (body.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  if (status === 429 && typeof retryAfter === 'number') response.setHeader('retry-after', String(retryAfter));
  response.status(status).json(body);
}

/**
 * The error as it may be logged: body-parser hangs the raw request body (a password, say) on the
 * errors of its parser and of its `verify` as `body`; the log gets everything but that.
 */
export function withoutRequestBody(error: unknown): unknown {
  if (!(error instanceof Error) || !Object.hasOwn(error, 'body')) return error;
  const copy = Object.assign(Object.create(Object.getPrototypeOf(error) as object) as Error, error, { message: error.message, stack: error.stack });
  delete (copy as Error & { body?: unknown }).body;
  return copy;
}
