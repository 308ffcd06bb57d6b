import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** A header every answer carries, the same for all. */
export type FixedHeader = readonly [name: string, value: string];

/**
 * The headers that `middleware` sets on every answer, found by running it once against a
 * recorder. Only for middleware whose headers never depend on the request (helmet's, with no
 * content-security-policy nonces): one that reads the request or the response, removes a header
 * other than X-Powered-By, or does not go on at once, is refused here, at start.
 */
export function headersSetBy(middleware: RequestHandler): FixedHeader[] {
  const headers: FixedHeader[] = [];
  let wentOn = false;
  const recorder = {
    setHeader: (name: string, value: unknown) => void headers.push([name, String(value)]),
    // Helmet takes X-Powered-By away; the gateway never sets it (app.disable('x-powered-by')).
    removeHeader: (name: string) => {
      if (name.toLowerCase() !== 'x-powered-by') throw new Error(`The middleware removes ${name}: its headers are not fixed`);
    },
  };
  const request = new Proxy(
    {},
    {
      get: (_target, property) => {
        throw new Error(`The middleware reads the request (${String(property)}): its headers are not fixed`);
      },
    },
  );
  middleware(request as Request, recorder as unknown as Response, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error('The middleware failed at start');
    wentOn = true;
  });
  if (!wentOn) throw new Error('The middleware did not go on at once: its headers are not fixed');
  return headers;
}

/** Sets `headers` on every answer: one middleware instead of a chain of them (helmet runs twelve per request). */
export function fixedHeadersMiddleware(headers: FixedHeader[]): RequestHandler {
  return (_request: Request, response: Response, next: NextFunction): void => {
    for (const [name, value] of headers) response.setHeader(name, value);
    next();
  };
}
