import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { createHttpApp } from '../../../src/app/http-app.js';
import { ApiKeyRepository } from '../../../src/repositories/api-key.repository.js';
import { runCli } from '../../support/cli.js';
import { ApiClient, connectSocket, type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';

describe('accounts: sign-in, sessions, API keys and the command line', () => {
  let t: HttpTestApp;
  beforeAll(async () => {
    t = await startHttpTestApp({ workers: false });
  });
  afterAll(async () => t?.close());

  it('registers and logs in, refusing a wrong password, an unknown email and a taken email alike', async () => {
    const registered = await t.api.post('/auth/register', { json: { email: ' Lan@Example.com ', password: 'mật khẩu dài', displayName: 'Lan' } });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { email: 'lan@example.com', displayName: 'Lan' } });
    const me = await t.api.get('/auth/me', { token: registered.body.accessToken });
    expect(me.body).toMatchObject({ id: registered.body.user.id, email: 'lan@example.com' });

    const login = await t.api.post('/auth/login', { json: { email: 'LAN@example.com', password: 'mật khẩu dài' } });
    expect(login.status).toBe(200);
    expect((await t.api.get('/auth/me', { token: login.body.accessToken })).status).toBe(200);
    for (const json of [{ email: 'lan@example.com', password: 'wrong password' }, { email: 'nobody@example.com', password: 'mật khẩu dài' }]) {
      const refused = await t.api.post('/auth/login', { json });
      expect(refused.body).toEqual({ statusCode: 401, code: 'invalid-credentials', message: 'The email or password is wrong' });
    }
    const taken = await t.api.post('/auth/register', { json: { email: 'lan@example.com', password: 'another password' } });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('email-taken');
  });

  it('rotates refresh tokens; an old one ends the session', async () => {
    const first = await t.api.register('rotate@example.com');
    const refreshed = await t.api.post('/auth/refresh', { json: { refreshToken: first.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(first.refreshToken);
    expect((await t.api.get('/auth/me', { token: refreshed.body.accessToken })).status).toBe(200);
    // The used token again: refused, and the session (with its newest tokens) is ended.
    const reused = await t.api.post('/auth/refresh', { json: { refreshToken: first.refreshToken } });
    expect(reused.status).toBe(401);
    expect((await t.api.post('/auth/refresh', { json: { refreshToken: refreshed.body.refreshToken } })).status).toBe(401);
    expect((await t.api.get('/auth/me', { token: refreshed.body.accessToken })).status).toBe(401);
    // An access token is not a refresh token.
    expect((await t.api.post('/auth/refresh', { json: { refreshToken: first.token } })).status).toBe(401);
  });

  it('logout ends this session at once, and `all` ends every session', async () => {
    const one = await t.api.register('logout@example.com');
    const two = (await t.api.post('/auth/login', { json: { email: 'logout@example.com', password: 'correct horse battery' } })).body;
    expect((await t.api.post('/auth/logout', { token: one.token, json: {} })).status).toBe(204);
    expect((await t.api.get('/auth/me', { token: one.token })).status).toBe(401);
    expect((await t.api.post('/auth/refresh', { json: { refreshToken: one.refreshToken } })).status).toBe(401);
    expect((await t.api.get('/auth/me', { token: two.accessToken })).status).toBe(200);
    const three = (await t.api.post('/auth/login', { json: { email: 'logout@example.com', password: 'correct horse battery' } })).body;
    expect((await t.api.post('/auth/logout', { token: two.accessToken, json: { all: true } })).status).toBe(204);
    expect((await t.api.get('/auth/me', { token: three.accessToken })).status).toBe(401);
  });

  it('logout with the refresh token ends the session even when the access token has expired', async () => {
    const user = await t.api.register('expired@example.com');
    // The same claims as the real access token, expired a minute ago, signed as the server signs.
    const claims = JSON.parse(Buffer.from(user.token.split('.')[1]!, 'base64url').toString('utf8'));
    const expired = await t.app.get(JwtService).signAsync({ sub: claims.sub, sid: claims.sid, typ: 'access', exp: Math.floor(Date.now() / 1000) - 60 });
    expect((await t.api.get('/auth/me', { token: expired })).status).toBe(401);
    expect((await t.api.post('/auth/logout', { token: expired, json: {} })).status).toBe(401);
    expect((await t.api.post('/auth/logout', { token: expired, json: { refreshToken: user.refreshToken } })).status).toBe(204);
    // The session is over: its refresh token and its (still unexpired) access token no longer work.
    expect((await t.api.post('/auth/refresh', { json: { refreshToken: user.refreshToken } })).status).toBe(401);
    expect((await t.api.get('/auth/me', { token: user.token })).status).toBe(401);
    expect((await t.api.post('/auth/logout', { json: { refreshToken: 'not.a.token' } })).status).toBe(401);
  });

  it('logout closes the sockets of the session it ends; `all` closes every signed-in socket, not an API key\'s', async () => {
    const user = await t.api.register('sockets@example.com');
    const other = (await t.api.post('/auth/login', { json: { email: 'sockets@example.com', password: 'correct horse battery' } })).body;
    const key = (await t.api.post('/api-keys', { token: user.token, json: { name: 'script' } })).body.key as string;
    const mine = await connectSocket(t.baseUrl, user.token);
    const theirs = await connectSocket(t.baseUrl, other.accessToken);
    const script = await connectSocket(t.baseUrl, key);
    const closed = (socket: typeof mine) =>
      new Promise<string>((resolve) => (socket.socket.disconnected ? resolve('closed') : socket.socket.once('disconnect', () => resolve('closed'))));
    try {
      expect((await t.api.post('/auth/logout', { token: user.token, json: {} })).status).toBe(204);
      expect(await closed(mine)).toBe('closed');
      expect(theirs.socket.connected).toBe(true);
      expect((await t.api.post('/auth/logout', { token: other.accessToken, json: { all: true } })).status).toBe(204);
      expect(await closed(theirs)).toBe('closed');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(script.socket.connected).toBe(true);
    } finally {
      for (const socket of [mine, theirs, script]) socket.close();
    }
  });

  it('API keys are shown once, kept hashed, work over HTTP and Socket.IO, and stop when deleted', async () => {
    const user = await t.api.register('keys@example.com');
    const created = await t.api.post('/api-keys', { token: user.token, json: { name: 'nightly import' } });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^sfk_[0-9a-f]{64}$/);
    expect(created.body).toMatchObject({ name: 'nightly import', prefix: key.slice(0, 12), lastUsedAt: null });

    const listed = await t.api.get('/api-keys', { token: user.token });
    expect(listed.body).toEqual([{ id: created.body.id, name: 'nightly import', prefix: key.slice(0, 12), lastUsedAt: null, createdAt: expect.any(String) }]);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    const [stored] = await t.app.get(ApiKeyRepository).listByUser(user.userId);
    expect(stored!.keyHash).toBe(createHash('sha256').update(key).digest('hex'));

    expect((await t.api.get('/auth/me', { headers: { 'x-api-key': key } })).body.email).toBe('keys@example.com');
    expect((await t.api.get('/stories', { token: key })).status).toBe(200);
    expect((await t.api.get('/api-keys', { token: user.token })).body[0].lastUsedAt).not.toBeNull();
    const socket = await connectSocket(t.baseUrl, key);
    socket.close();
    const socketByHeader = await connectSocket(t.baseUrl, undefined, { headers: { 'x-api-key': key } });
    socketByHeader.close();

    expect((await t.api.delete(`/api-keys/${created.body.id}`, { token: user.token })).status).toBe(204);
    expect((await t.api.get('/auth/me', { headers: { 'x-api-key': key } })).status).toBe(401);
    await expect(connectSocket(t.baseUrl, key)).rejects.toMatchObject({ data: { code: 'unauthorized' } });
  });

  it('`storyforge user create` and `apikey create` make accounts that work over HTTP', async () => {
    const env = { DATABASE_URL: t.config.databaseUrl!, DATA_DIR: t.config.dataDir, LOG_LEVEL: 'silent' };
    const made = await runCli(['user', 'create', '--email', 'Cli@Example.com', '--password', 'from the shell', '--name', 'Shell'], env);
    expect(made).toMatchObject({ code: 0, stdout: expect.stringContaining('Created user cli@example.com') });
    const login = await t.api.post('/auth/login', { json: { email: 'cli@example.com', password: 'from the shell' } });
    expect(login.body.user).toMatchObject({ email: 'cli@example.com', displayName: 'Shell' });

    const again = await runCli(['user', 'create', '--email', 'cli@example.com', '--password', 'from the shell'], env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('exists already');

    const key = await runCli(['apikey', 'create', '--email', 'cli@example.com', '--name', 'cron'], env);
    expect(key.code).toBe(0);
    const printed = key.stdout.trim();
    expect(printed).toMatch(/^sfk_[0-9a-f]{64}$/);
    expect((await t.api.get('/auth/me', { token: printed })).body.email).toBe('cli@example.com');
    const unknown = await runCli(['apikey', 'create', '--email', 'ghost@example.com'], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('ghost@example.com');
  });

  it('keeps the generated signing secret in DATA_DIR, so another process (or a restart) accepts the tokens', async () => {
    const secretFile = path.join(t.config.dataDir, 'jwt-secret');
    const stat = await fs.stat(secretFile);
    expect(stat.mode & 0o777).toBe(0o600);
    expect((await fs.readFile(secretFile, 'utf8')).trim()).toMatch(/^[0-9a-f]{128}$/);
    const user = await t.api.register('restart@example.com');

    const second = await createHttpApp(t.config, { workers: false, logger: ['error'] });
    await second.listen(0, '127.0.0.1');
    try {
      const api = new ApiClient(`http://127.0.0.1:${(second.getHttpServer().address() as AddressInfo).port}`);
      expect((await api.get('/auth/me', { token: user.token })).body.email).toBe('restart@example.com');
    } finally {
      await second.close();
    }
  });
});

describe('rate limits and CORS', () => {
  let t: HttpTestApp;
  beforeAll(async () => {
    t = await startHttpTestApp({
      workers: false,
      env: { RATE_LIMIT_AUTH: '3', RATE_LIMIT_UPLOAD: '2', CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' },
    });
  });
  afterAll(async () => t?.close());

  it('limits uploads per user (both upload routes count together)', async () => {
    const first = await t.api.register('uploader@example.com'); // sign-in attempt 1 of 3
    const second = await t.api.register('other-uploader@example.com'); // 2 of 3
    const file = [{ name: 'tiny.txt', bytes: Buffer.from('A tiny story. It ends.') }];
    expect((await t.api.uploadFiles(first.token, file)).status).toBe(201);
    expect((await t.api.uploadFiles(first.token, file, 'file', '/file-upload/upload')).status).toBe(201);
    const limited = await t.api.uploadFiles(first.token, file);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('too-many-requests');
    expect((await t.api.uploadFiles(second.token, file)).status).toBe(201);
  });

  it('limits register and login together per client, answering 429 with the error body', async () => {
    expect((await t.api.post('/auth/login', { json: { email: 'uploader@example.com', password: 'wrong one!' } })).status).toBe(401); // 3 of 3
    const limited = await t.api.post('/auth/login', { json: { email: 'uploader@example.com', password: 'correct horse battery' } });
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ statusCode: 429, code: 'too-many-requests', message: expect.any(String) });
    expect(Number(limited.headers.get('retry-after-auth'))).toBeGreaterThan(0);
    expect((await t.api.post('/auth/register', { json: { email: 'late@example.com', password: 'correct horse battery' } })).status).toBe(429);
    // Other routes are not limited.
    const key = (await t.api.get('/auth/me')).status;
    expect(key).toBe(401);
    for (let i = 0; i < 5; i++) expect((await t.api.get('/health')).status).toBe(200);
  });

  it('allows cross-origin requests from configured origins only', async () => {
    const preflight = (origin: string) =>
      fetch(`${t.baseUrl}/stories`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const other = await preflight('https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${t.baseUrl}/health`, { headers: { origin: 'http://localhost:5173' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });
});

describe('rate limits behind a proxy (TRUST_PROXY)', () => {
  const login = (t: HttpTestApp, forwardedFor: string) =>
    t.api.post('/auth/login', { json: { email: 'nobody@example.com', password: 'wrong one!' }, headers: { 'x-forwarded-for': forwardedFor } });

  it('counts each client behind a trusted proxy apart, and ignores X-Forwarded-For from an untrusted one', async () => {
    const trusted = await startHttpTestApp({ workers: false, env: { RATE_LIMIT_AUTH: '2', TRUST_PROXY: 'loopback' } });
    const untrusted = await startHttpTestApp({ workers: false, env: { RATE_LIMIT_AUTH: '2' } });
    try {
      // Behind a trusted proxy: two clients, two attempts each, none limited.
      for (const client of ['203.0.113.7', '203.0.113.7', '198.51.100.9', '198.51.100.9']) expect((await login(trusted, client)).status).toBe(401);
      expect((await login(trusted, '203.0.113.7')).status).toBe(429);
      // Without TRUST_PROXY the header is the client's own claim: every request is the proxy's address.
      expect((await login(untrusted, '203.0.113.7')).status).toBe(401);
      expect((await login(untrusted, '198.51.100.9')).status).toBe(401);
      expect((await login(untrusted, '192.0.2.1')).status).toBe(429);
    } finally {
      await trusted.close();
      await untrusted.close();
    }
  });

  it('refuses a TRUST_PROXY that is not an address list, saying what it takes', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'loopback, not-an-address' })).toThrow(/TRUST_PROXY.*must be true, false, a hop count, or addresses/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY/);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8, ::1' }).http.trustProxy).toBe('loopback, 10.0.0.0/8, ::1');
    expect(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(loadConfig({}).http.trustProxy).toBe(false);
  });
});
