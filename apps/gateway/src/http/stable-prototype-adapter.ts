import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express, Response } from 'express';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { RelayedJson } from '#libs/platform/relayed-json.js';

/**
 * Nest's Express adapter, with an HTTP server that creates every request and response with
 * Express's own prototypes (`app.request`, `app.response`) from the start.
 *
 * Express otherwise swaps their prototypes on each request (`Object.setPrototypeOf`). On Node 20
 * that makes V8 build a new object layout per request, held from old space, so every scavenge
 * promotes ~9 KB per request and the heap needs a mark-compact every few seconds: a quarter of
 * a bare route's CPU, and GC pauses of 5-30 ms in the latency tail. With the prototypes right
 * from birth, Express's swap is a no-op; answers are byte for byte the same.
 *
 * It also writes a {@link RelayedJson} route result (a service's response, relayed unchanged) as
 * the body, without parsing and serializing it again.
 */
export class StablePrototypeExpressAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    super.initHttpServer(options);
    // HTTPS servers and tracked connections keep Nest's own server.
    if (options?.httpsOptions || options?.forceCloseConnections) return;
    const app = this.getInstance<Express>();
    this.httpServer = createServer({ IncomingMessage: requestClassOf(app), ServerResponse: responseClassOf(app) }, app);
  }

  /**
   * A {@link RelayedJson} result is written as it came from the service; anything else as Nest
   * does. In the plain case (see {@link isPlainAnswer}, as the gateway's routes answer) it is
   * written straight away: Express's `send` would only work out headers it already has.
   */
  override reply(response: Response, body: unknown, statusCode?: number): unknown {
    if (!(body instanceof RelayedJson)) return super.reply(response, body, statusCode);
    if (statusCode !== undefined) response.status(statusCode);
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    const bytes = Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength);
    if (!isPlainAnswer(response)) return response.send(bytes);
    response.setHeader('Content-Length', bytes.byteLength);
    return response.req.method === 'HEAD' ? response.end() : response.end(bytes);
  }
}

/**
 * Whether Express's `send` would write the body as it is, with only a length added: ETags off, a
 * status that has a body, and nothing for its freshness check (304) to compare or for its
 * transfer handling to undo.
 */
function isPlainAnswer(response: Response): boolean {
  const { req: request, statusCode } = response;
  return (
    !response.app.get('etag fn') &&
    ![204, 205, 304].includes(statusCode) &&
    request.headers['if-none-match'] === undefined &&
    request.headers['if-modified-since'] === undefined &&
    !response.hasHeader('etag') &&
    !response.hasHeader('last-modified') &&
    !response.hasHeader('transfer-encoding')
  );
}

/**
 * A constructor Node's HTTP server can use for requests, whose instances have Express's request
 * prototype. It inherits from IncomingMessage as a subclass would (`setPrototypeOf` on the
 * constructor): V8 sizes a new object by the property assignments of its constructor and of
 * that constructor's parents, so without it the object is born with room for a few properties;
 * the rest spill out, and a response (whose constructors set symbol-keyed fields) turns into a
 * slow dictionary-mode object on every request: ~10 % more gateway CPU per request.
 */
function requestClassOf(app: Express): typeof IncomingMessage {
  function ExpressRequest(this: IncomingMessage, socket: Socket) {
    IncomingMessage.call(this, socket);
  }
  ExpressRequest.prototype = app.request;
  Object.setPrototypeOf(ExpressRequest, IncomingMessage);
  return ExpressRequest as unknown as typeof IncomingMessage;
}

/** The same for responses. */
function responseClassOf(app: Express): typeof ServerResponse {
  function ExpressResponse(this: ServerResponse, request: IncomingMessage, options?: object) {
    (ServerResponse as unknown as (this: ServerResponse, request: IncomingMessage, options?: object) => void).call(this, request, options);
  }
  ExpressResponse.prototype = app.response;
  Object.setPrototypeOf(ExpressResponse, ServerResponse);
  return ExpressResponse as unknown as typeof ServerResponse;
}
