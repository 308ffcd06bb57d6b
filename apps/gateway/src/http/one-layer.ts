import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Runs `handlers` one after the other as one Express layer, as `app.use(...handlers)` would: a
 * handler that passes an error (or throws, or returns a promise that rejects) ends the chain with
 * it; `next('route')` goes on to the next handler, as it does between middleware layers; one that
 * answers without calling `next` ends the chain. Express's router pays for matching, parameters
 * and a `try` on every layer of every request; the gateway's front middleware need none of it.
 * Error handlers (four parameters) are refused: they belong in a layer of their own.
 */
export function oneLayer(...handlers: RequestHandler[]): RequestHandler {
  if (handlers.some((handler) => handler.length >= 4)) throw new Error('oneLayer takes no error-handling middleware (four parameters)');
  return (request: Request, response: Response, done: NextFunction): void => {
    let index = 0;
    const next = (error?: unknown): void => {
      if (error !== undefined && error !== null && error !== 'route') return done(error);
      const handler = handlers[index];
      index += 1;
      if (!handler) return done();
      try {
        const returned: unknown = handler(request, response, next);
        if (returned instanceof Promise) returned.catch((rejection: unknown) => next(rejection ?? new Error('Rejected promise')));
      } catch (thrown) {
        done(thrown);
      }
    };
    next();
  };
}
