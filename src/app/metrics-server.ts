import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { notReadyBody } from '../controllers/health.controller.js';
import { metricsAccess } from '../observability/metrics-access.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../observability/metrics.js';
import type { ReadinessReport } from '../services/readiness.service.js';

/** A running metrics server: its address and how to stop it. */
export interface MetricsServer {
  host: string;
  port: number;
  close(): Promise<void>;
  /** Lets the process end while the server is open (it closes with the process). */
  unref(): void;
}

/**
 * The HTTP server of a process without the API (`storyforge worker`): `GET /metrics` (the same
 * rules as the API's: METRICS_TOKEN, or this machine only), `/health` and `/ready` (with the
 * same bodies as the API's). Anything else answers 404.
 * @param port 0 picks a free port (see the result).
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  token?: string;
  readiness: () => Promise<ReadinessReport>;
}): Promise<MetricsServer> {
  const json = (response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    response.end(JSON.stringify(body));
  };
  const server = http.createServer((request, response) => {
    const route = (request.url ?? '/').split('?')[0];
    const answer = async () => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return json(response, 405, { statusCode: 405, code: 'method-not-allowed', message: 'Only GET is served here' }, { Allow: 'GET, HEAD' });
      }
      if (route === '/health') return json(response, 200, { status: 'ok' });
      if (route === '/ready') {
        const report = await options.readiness();
        if (report.ready) return json(response, 200, { status: 'ready', ...report.checks });
        return json(response, 503, notReadyBody(report), { 'Retry-After': '5' });
      }
      if (route === '/metrics') {
        const access = metricsAccess(options.token, request.headers.authorization, request.socket.remoteAddress);
        if (!access.ok) return json(response, access.status, { statusCode: access.status, code: access.code, message: access.message });
        const text = await renderMetrics();
        response.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE });
        return response.end(text);
      }
      return json(response, 404, { statusCode: 404, code: 'not-found', message: 'This port serves /metrics, /health and /ready only' });
    };
    answer().catch(() => json(response, 500, { statusCode: 500, code: 'internal-error', message: 'The metrics could not be read' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: options.host,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    unref: () => void server.unref(),
  };
}
