import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HealthView } from '#libs/contracts/index.js';

/** The process's metrics in Prometheus's text format (see `metrics.ts`). */
export type MetricsSource = () => Promise<{ contentType: string; text: string }>;

/**
 * A tiny HTTP server for Kubernetes probes of a NATS-only service: `/health/live` (the process
 * runs), `/health/ready` (its database and NATS answer), and `/metrics` for Prometheus when a
 * source is given.
 */
export async function startHealthServer(port: number, readiness: () => Promise<HealthView>, metrics?: MetricsSource): Promise<Server> {
  const server = createServer((request, response) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.url === '/health/live') return send(200, { status: 'ok' });
    if (metrics && isMetricsRequest(request)) return sendMetrics(response, metrics);
    if (request.url === '/health/ready') {
      readiness().then(
        (view) => send(view.ready ? 200 : 503, view),
        () => send(503, { ready: false }),
      );
      return;
    }
    send(404, { code: 'ROUTE_NOT_FOUND', message: 'Not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', resolve);
  });
  return server;
}

/** Whether `request` is Prometheus's scrape: `GET /metrics`, whatever its query. */
export function isMetricsRequest(request: IncomingMessage): boolean {
  return request.method === 'GET' && request.url?.split('?')[0] === '/metrics';
}

/** Answers a scrape with the metrics of `metrics`, or 500 naming the problem when they could not be collected. */
export function sendMetrics(response: ServerResponse, metrics: MetricsSource): void {
  metrics().then(
    ({ contentType, text }) => {
      response.writeHead(200, { 'content-type': contentType });
      response.end(text);
    },
    () => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ code: 'INTERNAL', message: 'Metrics could not be collected' }));
    },
  );
}
