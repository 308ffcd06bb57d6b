import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { INHERITED_FIELD_NAMES, unstorableInputError, unstorableInputProblem, type InputProblem } from '#libs/platform/index.js';

/** The body media types the API reads: JSON, and JSON by any `+json` name. */
export const JSON_MEDIA_TYPES = ['application/json', 'application/*+json'];

/**
 * The one route that also reads an HTML form's body (`application/x-www-form-urlencoded`): the
 * OAuth 2.0 token endpoint, whose clients send their grant so (RFC 6749 §4.4.2).
 */
const FORM_ROUTE = '/v1/auth/token';

/** Whether the request is a form sent to the route that reads one ({@link FORM_ROUTE}): the form parser reads it. */
export function isTokenForm(request: Request): boolean {
  return request.method === 'POST' && request.path === FORM_ROUTE && request.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';
}

/**
 * Marks, before the JSON parser, a request whose body the API would not read as sent: one labelled
 * with another media type, or with none. It is refused with 415 only by a route that reads a body (see
 * {@link assertReadableBody}): there it would otherwise arrive empty, and a PATCH would "succeed"
 * changing nothing; a route that takes no body ignores it, as before.
 */
export function markUnreadableBodies(request: Request, _response: Response, next: NextFunction): void {
  // A body with no content type counts as unreadable too: the JSON parser would skip it just the same.
  if (hasBody(request) && !request.is(JSON_MEDIA_TYPES) && !isTokenForm(request)) {
    (request as Request & { unreadableBody?: boolean }).unreadableBody = true;
  }
  next();
}

/** The 415 for a request {@link markUnreadableBodies} marked, when its route reads a body. */
export function assertReadableBody(request: Request, handler: object, controller: object): void {
  if ((request as Request & { unreadableBody?: boolean }).unreadableBody && readsBody(handler, controller)) {
    throw new DomainError(ErrorCode.UnsupportedMediaType, 'The request body must be JSON (content-type: application/json)');
  }
}

/**
 * The JSON parser's `verify`: refuses a UTF-8 body (JSON's encoding, and the default) whose bytes
 * are not UTF-8, which the parser would otherwise read with U+FFFD in place of the bad bytes and
 * store so, silently changed. (A body labelled UTF-16 is decoded as such; a lone surrogate in it is
 * refused by {@link refuseUnstorableInput}.)
 */
export function assertUtf8Body(_request: IncomingMessage, _response: ServerResponse, body: Buffer, encoding: string): void {
  if (encoding === 'utf-8' && !isUtf8(body)) throw new DomainError(ErrorCode.ValidationFailed, 'The request body is not valid UTF-8');
}

/**
 * Refuses input that no field of the API may hold and that would otherwise fail deep inside (the
 * rules of unstorableInputProblem in libs/platform, which every service applies to its NATS
 * payloads too): text with a NUL character or a lone surrogate, a field named `__proto__`,
 * `toString` or as another member of Object.prototype, a body nested deeper than MAX_INPUT_DEPTH
 * levels. Looks at the parsed body, and at the query only when its raw text holds an escape or such a
 * name (cheap on every request); runs after the JSON parser.
 */
export function refuseUnstorableInput(request: Request, _response: Response, next: NextFunction): void {
  const problem = (typeof request.body === 'object' && request.body !== null ? unstorableInputProblem(request.body) : undefined) ?? queryProblem(request.url);
  next(problem ? unstorableInputError(problem) : undefined);
}

/**
 * What a query string must hold for {@link queryProblem} to read it field by field: an encoded
 * character (a NUL, or a name spelt with escapes: `constructo%72`), or a name of Object.prototype.
 */
const SUSPECT_QUERY = new RegExp(`%|${INHERITED_FIELD_NAMES.join('|')}`, 'i');

/** The query field holding an encoded NUL, or named as a member of Object.prototype, if any (its name as the validation pipe names it). */
function queryProblem(url: string): InputProblem | undefined {
  const start = url.indexOf('?');
  if (start < 0 || !SUSPECT_QUERY.test(url.slice(start))) return undefined;
  for (const [key, value] of new URLSearchParams(url.slice(start + 1))) {
    // A computed key: `__proto__` becomes a field of its own, as JSON.parse makes it.
    const problem = unstorableInputProblem({ [key]: value }, key.replaceAll('\u0000', ''));
    if (problem) return problem;
  }
  return undefined;
}

/** Whether a route handler takes the body (a `@Body()` parameter); remembered per handler. */
function readsBody(handler: object, controller: object): boolean {
  let known = BODY_READERS.get(handler);
  if (known === undefined) {
    // Nest keeps parameter metadata under the method's property key, which need not be the function's name.
    const key = propertyKeyOf(controller, handler) ?? (handler as { name: string }).name;
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller.constructor, key) ?? {}) as Record<string, unknown>;
    known = Object.keys(args).some((key) => key.split(':')[0] === String(RouteParamtypes.BODY));
    BODY_READERS.set(handler, known);
  }
  return known;
}

const BODY_READERS = new WeakMap<object, boolean>();

/** The name under which `prototype` (or one it inherits from) holds `handler`. */
function propertyKeyOf(prototype: object, handler: object): string | undefined {
  for (let current: object | null = prototype; current && current !== Object.prototype; current = Object.getPrototypeOf(current) as object | null) {
    const key = Object.getOwnPropertyNames(current).find((name) => name !== 'constructor' && (current as Record<string, unknown>)[name] === handler);
    if (key) return key;
  }
  return undefined;
}

/** Whether the request carries a body (a length above zero, or a chunked one). */
function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
