import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** What a request for metrics gets: the metrics, or an error status with a message. */
export type MetricsAccess = { ok: true } | { ok: false; status: 401 | 403; code: 'unauthorized' | 'forbidden'; message: string };

/** Whether an address is this machine's (127.0.0.0/8, ::1, or either mapped into IPv6). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}

/**
 * Who may read metrics. With METRICS_TOKEN set, a request needs `Authorization: Bearer <token>`
 * (401 otherwise). Without it, only connections from this machine are answered (403 otherwise):
 * the socket's own address counts, never X-Forwarded-For, so a proxy on the same host must not
 * forward /metrics from outside.
 */
export function metricsAccess(token: string | undefined, authorization: string | undefined, remoteAddress: string | undefined): MetricsAccess {
  if (token) {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? '';
    const a = Buffer.from(presented);
    const b = Buffer.from(token);
    if (a.length === b.length && timingSafeEqual(a, b)) return { ok: true };
    return { ok: false, status: 401, code: 'unauthorized', message: 'Metrics need the METRICS_TOKEN as a bearer token' };
  }
  if (isLoopback(remoteAddress)) return { ok: true };
  return {
    ok: false,
    status: 403,
    code: 'forbidden',
    message: 'Metrics answer only to this machine; set METRICS_TOKEN to scrape them from elsewhere',
  };
}
