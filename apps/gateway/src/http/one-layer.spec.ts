import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { oneLayer } from './one-layer.js';

const request = {} as Request;
const response = {} as Response;

/** Runs the layer and resolves with what it handed on (undefined: went on; anything else: the error), or 'answered'. */
function outcome(layer: RequestHandler, answeredAfterMs = 20): Promise<unknown> {
  return new Promise((resolve) => {
    void layer(request, response, ((error?: unknown) => resolve(error)) as NextFunction);
    setTimeout(() => resolve('answered'), answeredAfterMs);
  });
}

describe('middleware run as one layer', () => {
  it('runs every handler in order, then goes on', async () => {
    const order: number[] = [];
    const step =
      (n: number): RequestHandler =>
      (_request, _response, next) => (order.push(n), next());
    expect(await outcome(oneLayer(step(1), step(2), step(3)))).toBeUndefined();
    expect(order).toEqual([1, 2, 3]);
  });

  it('waits for a handler that goes on later (a body being read)', async () => {
    const order: string[] = [];
    const later: RequestHandler = (_request, _response, next) => void setTimeout(() => (order.push('read'), next()), 5);
    // Given a wait far beyond the handler's 5 ms: on a loaded machine (CI) its timer may fire after the default 20 ms.
    expect(
      await outcome(
        oneLayer(later, (_request, _response, next) => (order.push('after'), next())),
        5000,
      ),
    ).toBeUndefined();
    expect(order).toEqual(['read', 'after']);
  });

  it('ends with the error a handler passes or throws; the rest do not run', async () => {
    const failure = new Error('bad body');
    let ranAfter = false;
    const after: RequestHandler = (_request, _response, next) => ((ranAfter = true), next());
    expect(await outcome(oneLayer((_request, _response, next) => next(failure), after))).toBe(failure);
    expect(
      await outcome(
        oneLayer(() => {
          throw failure;
        }, after),
      ),
    ).toBe(failure);
    expect(ranAfter).toBe(false);
  });

  it("ends with the rejection of an async handler; 'route' goes on; 'router' is handed on", async () => {
    const failure = new Error('async failure');
    expect(await outcome(oneLayer(() => Promise.reject(failure)))).toBe(failure);
    let ranAfter = false;
    const after: RequestHandler = (_request, _response, next) => ((ranAfter = true), next());
    expect(await outcome(oneLayer((_request, _response, next) => next('route'), after))).toBeUndefined();
    expect(ranAfter).toBe(true);
    expect(await outcome(oneLayer((_request, _response, next) => next('router')))).toBe('router');
  });

  it('refuses error-handling middleware', () => {
    const errorHandler = (_error: unknown, _request: Request, _response: Response, next: NextFunction) => next();
    expect(() => oneLayer(errorHandler as unknown as RequestHandler)).toThrow('four parameters');
  });

  it('ends when a handler answers without going on', async () => {
    let ranAfter = false;
    expect(
      await outcome(
        oneLayer(
          () => undefined,
          (_request, _response, next) => ((ranAfter = true), next()),
        ),
      ),
    ).toBe('answered');
    expect(ranAfter).toBe(false);
  });
});
