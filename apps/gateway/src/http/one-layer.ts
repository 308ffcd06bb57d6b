import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Runs `handlers` one after the other as one Express layer, as `app.use(...handlers)` would: a
 * handler that passes an error (or throws) ends the chain with it, and one that answers without
 * calling `next` ends it too. Express's router pays for matching, parameters and a `try` on every
 * layer of every request; the gateway's front middleware need none of it.
 */
export function oneLayer(...handlers: RequestHandler[]): RequestHandler {
  return (request: Request, response: Response, done: NextFunction): void => {
    let index = 0;
    const next = (error?: unknown): void => {
      if (error !== undefined && error !== null) return done(error);
      const handler = handlers[index];
      index += 1;
      if (!handler) return done();
      try {
        void handler(request, response, next);
      } catch (thrown) {
        done(thrown);
      }
    };
    next();
  };
}
