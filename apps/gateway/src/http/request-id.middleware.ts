import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { acceptRequestId, REQUEST_ID_HEADER, requestContext } from '#libs/platform/index.js';

/** Takes the caller's request id (when plain) or makes one; returns it in a header; runs the request in its context. */
export function requestIdMiddleware(request: Request, response: Response, next: NextFunction): void {
  const requestId = acceptRequestId(request.headers[REQUEST_ID_HEADER]) ?? randomUUID();
  response.setHeader(REQUEST_ID_HEADER, requestId);
  requestContext.run({ requestId }, next);
}
