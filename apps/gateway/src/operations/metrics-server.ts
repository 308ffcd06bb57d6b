import { createServer, type Server } from 'node:http';
import { ErrorCode } from '#libs/errors/index.js';
import { isMetricsRequest, sendMetrics } from '#libs/platform/index.js';
import { metricsExposition } from '#libs/platform/metrics.js';

/**
 * Serves `GET /metrics` (Prometheus text) on a port of its own, apart from the API: what the
 * gateway measures about itself (routes, latencies, memory) is for the operator's scraper, not for
 * whoever reaches the API through the Ingress. Anything else answers 404.
 */
export async function startMetricsServer(port: number, host: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (isMetricsRequest(request)) return sendMetrics(response, metricsExposition);
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ code: ErrorCode.RouteNotFound, message: 'Only GET /metrics is served on this port' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
