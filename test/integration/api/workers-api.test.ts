import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService } from '../../../src/services/account.service.js';
import { type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';

const PASSWORD = 'operator horse battery staple';

describe('GET /admin/workers', () => {
  let t: HttpTestApp;

  beforeAll(async () => {
    t = await startHttpTestApp({ env: { WORKER_HEARTBEAT_MS: '200', WORKER_HEARTBEAT_TIMEOUT_MS: '5000' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists the live worker processes to an admin only, with what they run', async () => {
    expect((await t.api.get('/admin/workers')).status).toBe(401);
    const user = await t.api.register('not-an-admin@example.com');
    expect((await t.api.get('/admin/workers', { token: user.token })).status).toBe(403);

    await t.app.get(AccountService).createUser({ email: 'admin@example.com', password: PASSWORD, isAdmin: true });
    const admin = (await t.api.post('/auth/login', { json: { email: 'admin@example.com', password: PASSWORD } })).body.accessToken as string;
    const listed = await t.api.get('/admin/workers', { token: admin });
    expect(listed.status).toBe(200);
    // This process runs the workers of the test app.
    expect(listed.body.workers).toEqual([expect.objectContaining({ host: os.hostname(), pid: process.pid, state: 'running', running: [] })]);

    const unknown = await t.api.post('/admin/workers/00000000-0000-4000-8000-000000000000/drain', { token: admin });
    expect([unknown.status, unknown.body]).toEqual([200, { drained: false }]);
    expect((await t.api.post('/admin/workers/not-a-uuid/drain', { token: admin })).status).toBe(400);
    expect((await t.api.post(`/admin/workers/${listed.body.workers[0].id}/drain`, { token: user.token })).status).toBe(403);
  });
});
