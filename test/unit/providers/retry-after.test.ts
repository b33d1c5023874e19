import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, parseRetryAfterMs, ProviderError } from '../../../src/providers/provider-error.js';

const NOW = Date.parse('2025-03-01T12:00:00Z');

describe('parseRetryAfterMs', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfterMs({ 'retry-after': '2' }, NOW)).toBe(2000);
    expect(parseRetryAfterMs({ 'retry-after': ' 120 ' }, NOW)).toBe(120_000);
    expect(parseRetryAfterMs({ 'retry-after': '0' }, NOW)).toBe(0);
    expect(parseRetryAfterMs({ 'retry-after': '1.5' }, NOW)).toBe(1500);
  });

  it('reads an HTTP-date relative to now, in all three RFC 9110 forms', () => {
    expect(parseRetryAfterMs({ 'retry-after': 'Sat, 01 Mar 2025 12:00:30 GMT' }, NOW)).toBe(30_000);
    expect(parseRetryAfterMs({ 'retry-after': 'Saturday, 01-Mar-25 12:01:00 GMT' }, NOW)).toBe(60_000);
    expect(parseRetryAfterMs({ 'retry-after': 'Sat Mar  1 12:00:05 2025' }, NOW)).toBe(5_000);
  });

  it('reads a date already past as 0 (retry now)', () => {
    expect(parseRetryAfterMs({ 'retry-after': 'Fri, 28 Feb 2025 12:00:00 GMT' }, NOW)).toBe(0);
  });

  it('reads retry-after-ms and prefers it over Retry-After', () => {
    expect(parseRetryAfterMs({ 'retry-after-ms': '250' }, NOW)).toBe(250);
    expect(parseRetryAfterMs({ 'retry-after-ms': '20.4' }, NOW)).toBe(21);
    expect(parseRetryAfterMs({ 'retry-after': '1', 'retry-after-ms': '750' }, NOW)).toBe(750);
    // An unreadable retry-after-ms falls back to Retry-After.
    expect(parseRetryAfterMs({ 'retry-after': '3', 'retry-after-ms': 'soon' }, NOW)).toBe(3000);
  });

  it('matches header names in any case', () => {
    expect(parseRetryAfterMs({ 'Retry-After': '4' }, NOW)).toBe(4000);
    expect(parseRetryAfterMs({ 'Retry-After-Ms': '40' }, NOW)).toBe(40);
  });

  it('caps long waits at one hour', () => {
    expect(MAX_RETRY_AFTER_MS).toBe(3_600_000);
    expect(parseRetryAfterMs({ 'retry-after': '86400' }, NOW)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfterMs({ 'retry-after-ms': '99999999999' }, NOW)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfterMs({ 'retry-after': 'Sun, 02 Mar 2025 12:00:00 GMT' }, NOW)).toBe(MAX_RETRY_AFTER_MS);
  });

  it('ignores garbage and negative values', () => {
    for (const value of ['', 'soon', '-5', '1e3', 'Infinity', 'NaN', '1 2', '2025-03-01T12:00:30Z', 'Sat, 99 Foo 2025 GMT']) {
      expect(parseRetryAfterMs({ 'retry-after': value }, NOW), value).toBeUndefined();
    }
    expect(parseRetryAfterMs({ 'retry-after-ms': '-100' }, NOW)).toBeUndefined();
  });

  it('answers undefined when the server said nothing', () => {
    expect(parseRetryAfterMs(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfterMs({}, NOW)).toBeUndefined();
    expect(parseRetryAfterMs({ 'content-type': 'application/json' }, NOW)).toBeUndefined();
  });
});

describe('ProviderError.retryAfterMs', () => {
  it('is absent unless given, and kept when given', () => {
    const plain = new ProviderError('boom', 'transient', 'test');
    expect(plain.retryAfterMs).toBeUndefined();
    expect('retryAfterMs' in plain).toBe(false);

    const limited = new ProviderError('slow down', 'transient', 'test', { retryAfterMs: 2000, cause: 'x' });
    expect(limited.retryAfterMs).toBe(2000);
    expect(limited.cause).toBe('x');
    expect(limited.message).toBe('slow down');
  });

  it('drops values that are not a wait and caps long ones', () => {
    expect(new ProviderError('m', 'transient', 't', { retryAfterMs: -1 }).retryAfterMs).toBeUndefined();
    expect(new ProviderError('m', 'transient', 't', { retryAfterMs: Number.NaN }).retryAfterMs).toBeUndefined();
    expect(new ProviderError('m', 'transient', 't', { retryAfterMs: 10 * MAX_RETRY_AFTER_MS }).retryAfterMs).toBe(MAX_RETRY_AFTER_MS);
  });
});
