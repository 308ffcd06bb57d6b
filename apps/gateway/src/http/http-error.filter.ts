import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { toErrorResponse } from './error-body.js';

/** Writes `{ code, message, details?, requestId }` for every error; stacks go to the log only. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    writeError(this.logger, exception, host.switchToHttp().getResponse<Response>());
  }
}

/** The same for errors raised by Express middleware (body parsing) before Nest sees the request. */
export function expressErrorHandler(logger: Logger) {
  return (error: unknown, _request: Request, response: Response, next: NextFunction): void => {
    if (response.headersSent) return next(error);
    writeError(logger, error, response);
  };
}

function writeError(logger: Logger, exception: unknown, response: Response): void {
  const { status, body, unexpected } = toErrorResponse(exception);
  if (unexpected) logger.error({ err: exception }, 'Unexpected error while serving a request');
  response.status(status).json(body);
}
