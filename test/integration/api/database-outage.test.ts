import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';
import { type TcpProxy, startTcpProxy } from '../../support/tcp-proxy.js';
import { TEST_POSTGRES_URL, waitFor } from '../../support/test-app.js';

/** The most an answer may take while the database is down, ms (the documented promise: a few seconds). */
const OUTAGE_ANSWER_MS = 5_000;

describe('the API while PostgreSQL is down', () => {
  let proxy: TcpProxy;
  let t: HttpTestApp;
  let token: string;

  beforeAll(async () => {
    // The shared server cannot be stopped: the app reaches it through a proxy the test cuts.
    proxy = await startTcpProxy(Number(new URL(TEST_POSTGRES_URL).port || 5432), new URL(TEST_POSTGRES_URL).hostname);
    t = await startHttpTestApp({
      workers: false,
      databaseUrl: (url) => {
        const through = new URL(url);
        through.hostname = '127.0.0.1';
        through.port = String(proxy.port);
        return through.toString();
      },
    });
    ({ token } = await t.api.register('outage@example.com'));
  }, 60_000);

  afterAll(async () => {
    await proxy?.restore().catch(() => undefined);
    await t?.close();
    await proxy?.close();
  }, 60_000);

  /** GET with the token; resolves with the answer and how long it took, ms. */
  const timedGet = async (route: string) => {
    const started = Date.now();
    const answer = await t.api.get(route, { token });
    return { answer, ms: Date.now() - started };
  };

  it('answers 503 database-unavailable with Retry-After within seconds, /health stays live and /ready names the database', async () => {
    expect((await t.api.get('/stories', { token })).status).toBe(200);
    expect((await t.api.get('/ready')).body).toEqual({
      status: 'ready',
      database: { kind: 'postgres', status: 'up' },
      redis: { status: 'up', maxmemoryPolicy: 'noeviction' },
      storage: { status: 'up' },
    });

    await proxy.refuse(); // the server is down: connections refused
    const refused = await timedGet('/stories');
    expect(refused.answer.status).toBe(503);
    expect(refused.answer.body).toMatchObject({ statusCode: 503, code: 'database-unavailable' });
    expect(refused.answer.headers.get('retry-after')).toBe('5');
    expect(refused.ms).toBeLessThan(OUTAGE_ANSWER_MS);

    const health = await t.api.get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const notReady = await t.api.get('/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({
      code: 'not-ready',
      failing: ['database'],
      database: { kind: 'postgres', status: 'down' },
      redis: { status: 'up' },
      storage: { status: 'up' },
    });
    expect(notReady.body.message).toBe('Not ready: database is down');
    expect(notReady.headers.get('retry-after')).toBeTruthy();

    await proxy.blackHole(); // the server went silent: connections hang
    const silent = await timedGet(`/stories/batch/00000000-0000-4000-8000-000000000000/status`);
    expect(silent.answer.status).toBe(503);
    expect(silent.answer.body.code).toBe('database-unavailable');
    expect(silent.ms).toBeLessThan(OUTAGE_ANSWER_MS);

    await proxy.restore();
    await waitFor(async () => ((await t.api.get('/stories', { token })).status === 200 ? true : undefined), 20_000, 'the API to answer again');
    const readyAgain = await t.api.get('/ready');
    expect(readyAgain.status).toBe(200);
    expect(readyAgain.body).toMatchObject({ status: 'ready', database: { status: 'up' } });
  }, 60_000);
});
