import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { requestIdOf, scrubText, secretsOf } from '../../../src/logging/logger.js';
import { isLoopback, metricsAccess } from '../../../src/observability/metrics-access.js';

describe('configuration errors', () => {
  it('name the variable, what it holds and what is allowed, hiding secrets', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud', JWT_SECRET: 'short-secret', REDIS_URL: 'redis://u:hunter22@cache', METRICS_TOKEN: 'x' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('PORT: must be a whole number from 0 to 65535 (it is "abc")');
    expect(message).toContain('LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (it is "loud")');
    expect(message).toContain('JWT_SECRET: must be at least 32 characters (it is a hidden value of 12 characters)');
    expect(message).toContain('METRICS_TOKEN: must be at least 16 characters');
    expect(message).not.toContain('short-secret');
    expect(() => loadConfig({ VIDEO_SCALE: '2' })).toThrow('VIDEO_SCALE: must be a number from 0.05 to 1 (it is "2")');
  });
});

describe('log scrubbing', () => {
  it('blanks configured secrets and credentials found in text', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'local-key-123456', DATABASE_URL: 'postgres://sf:db-pass-99@db/sf' });
    const secrets = secretsOf(config);
    expect(secrets).toEqual(expect.arrayContaining(['local-key-123456', 'db-pass-99']));
    const text = scrubText(
      'key local-key-123456, Authorization: Bearer abc.def, jwt eyJhbGciOiJI.eyJzdWIiOiIx.c2ln, sfk_0123456789abcdef0123, ' +
        'sk-proj-ABCDEFGHIJKLMN, postgres://sf:db-pass-99@db/sf, {"password":"hunter2"} password=hunter3',
      secrets,
    );
    for (const leak of ['local-key-123456', 'abc.def', 'eyJhbGciOiJI', 'sfk_0123', 'sk-proj', 'db-pass-99', 'hunter2', 'hunter3']) {
      expect(text).not.toContain(leak);
    }
    expect(text).toContain('Bearer [redacted]');
    expect(scrubText('The refresh token is no longer valid; log in again')).toBe('The refresh token is no longer valid; log in again');
  });

  it('keeps a sane incoming request id and replaces any other', () => {
    expect(requestIdOf('abc-123.x:y_z')).toBe('abc-123.x:y_z');
    expect(requestIdOf('bad id with spaces')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdOf('x'.repeat(129))).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdOf(['a', 'b'])).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('metrics access', () => {
  it('needs the token when one is set, else a client on this machine', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('10.0.0.5')).toBe(false);
    expect(metricsAccess(undefined, undefined, '127.0.0.1')).toEqual({ ok: true });
    expect(metricsAccess(undefined, undefined, '10.0.0.5')).toMatchObject({ ok: false, status: 403 });
    const token = 'metrics-token-0123456789';
    expect(metricsAccess(token, `Bearer ${token}`, '10.0.0.5')).toEqual({ ok: true });
    expect(metricsAccess(token, undefined, '127.0.0.1')).toMatchObject({ ok: false, status: 401 });
    expect(metricsAccess(token, 'Bearer wrong', '127.0.0.1')).toMatchObject({ ok: false, status: 401 });
  });
});
