import type { NextFunction, Request, Response } from 'express';
import { DomainError, ErrorCode } from '#libs/errors/index.js';

/** How deep a JSON body may nest: far beyond any request of the API, far below what exhausts the stack of the validators. */
export const MAX_BODY_DEPTH = 32;

/** The body media types the API reads: JSON, and JSON by any `+json` name. */
export const JSON_MEDIA_TYPES = ['application/json', 'application/*+json'];

/**
 * Refuses, before anything reads it, a request whose body the API would not read as sent: a body
 * of another media type (415: it would otherwise arrive empty, and a PATCH would "succeed"
 * changing nothing). Runs before the JSON parser.
 */
export function refuseUnreadableBodies(request: Request, _response: Response, next: NextFunction): void {
  if (hasBody(request) && !request.is(JSON_MEDIA_TYPES)) {
    next(new DomainError(ErrorCode.UnsupportedMediaType, 'The request body must be JSON (content-type: application/json)'));
    return;
  }
  next();
}

/**
 * Refuses input that no field of the API may hold and that would otherwise fail deep inside: text
 * with a NUL character (PostgreSQL cannot store it) and a body nested deeper than
 * {@link MAX_BODY_DEPTH} levels. Looks at the parsed body and the query; runs after the JSON parser.
 */
export function refuseUnstorableInput(request: Request, _response: Response, next: NextFunction): void {
  const problem = problemIn(request.body, 'body') ?? problemIn(request.query, 'query');
  next(problem ? new DomainError(ErrorCode.ValidationFailed, problem, { field: problem.split(':')[0] }) : undefined);
}

/** The first problem in `value` (a field path and what is wrong), or undefined. Iterative: a deep value cannot exhaust the stack. */
export function problemIn(value: unknown, root: string): string | undefined {
  const pending: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: root, depth: 0 }];
  while (pending.length > 0) {
    const { value: current, path, depth } = pending.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return `${path}: must not contain a NUL character`;
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= MAX_BODY_DEPTH) return `${path}: nests deeper than ${MAX_BODY_DEPTH} levels`;
    for (const [key, field] of Object.entries(current)) {
      if (key.includes('\u0000')) return `${path}: a field name must not contain a NUL character`;
      pending.push({ value: field, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Every answer of the API is for one caller and may hold personal data or tokens: no cache keeps it (RFC 6749 5.1 for token answers). */
export function noStore(_request: Request, response: Response, next: NextFunction): void {
  response.setHeader('cache-control', 'no-store');
  next();
}

/** Whether the request carries a body (a length above zero, or a chunked one). */
function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
