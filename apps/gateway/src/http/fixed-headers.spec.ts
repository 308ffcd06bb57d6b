import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { fixedHeadersMiddleware, headersSetBy } from './fixed-headers.js';

function answered(middleware: RequestHandler): Record<string, unknown> {
  const request = new IncomingMessage(new Socket());
  const response = new ServerResponse(request);
  let wentOn = false;
  middleware(request as Request, response as unknown as Response, (() => (wentOn = true)) as NextFunction);
  expect(wentOn).toBe(true);
  return response.getHeaders();
}

describe('fixed answer headers', () => {
  it("sets exactly the headers helmet sets, with helmet's values", () => {
    const options = { contentSecurityPolicy: false } as const;
    const byHelmet = answered(helmet(options));
    expect(Object.keys(byHelmet).length).toBeGreaterThanOrEqual(10);
    expect(answered(fixedHeadersMiddleware(headersSetBy(helmet(options))))).toEqual(byHelmet);
  });

  it('follows the configuration it is given', () => {
    const headers = new Map(headersSetBy(helmet({ contentSecurityPolicy: false, strictTransportSecurity: { maxAge: 60 }, frameguard: false })));
    expect(headers.get('Strict-Transport-Security')).toBe('max-age=60; includeSubDomains');
    expect(headers.has('X-Frame-Options')).toBe(false);
  });

  it('refuses, at start, a middleware whose headers depend on the answer or that does not go on at once', () => {
    expect(() => headersSetBy((_request, response, next) => (response.getHeader('vary'), next()))).toThrow();
    expect(() => headersSetBy((request, response, next) => (response.setHeader('x-host', String(request.headers.host)), next()))).toThrow('reads the request');
    expect(() => headersSetBy((_request, response, next) => (response.removeHeader('Vary'), next()))).toThrow('removes Vary');
    expect(() => headersSetBy((_request, _response, next) => void setImmediate(next))).toThrow('did not go on at once');
    expect(() => headersSetBy((_request, _response, next) => next(new Error('broken')))).toThrow('broken');
  });
});
