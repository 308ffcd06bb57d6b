import type { NextFunction, Request, Response } from 'express';
import { Histogram } from 'prom-client';
import { processMetrics } from '#libs/platform/metrics.js';

const httpDuration = new Histogram({
  name: 'portico_http_request_duration_seconds',
  help: 'HTTP requests by method, route and status',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [processMetrics],
});

/** Times every request; the route label is the route pattern, never the raw path (bounded cardinality). */
export function metricsMiddleware(request: Request, response: Response, next: NextFunction): void {
  const stop = httpDuration.startTimer();
  response.on('finish', () => {
    const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
    stop({ method: request.method, route: `${request.baseUrl}${route}`, status: String(response.statusCode) });
  });
  next();
}
