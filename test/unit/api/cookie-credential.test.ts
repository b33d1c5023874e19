import { describe, expect, it } from 'vitest';
import { cookieCredential, TOKEN_COOKIE } from '../../../src/auth/credentials.js';

describe('the web page cookie', () => {
  const header = `theme=dark; ${TOKEN_COOKIE}=abc.def.ghi; other=1`;

  it('carries the access token on reads (GET, HEAD)', () => {
    expect(cookieCredential('GET', header)).toBe('abc.def.ghi');
    expect(cookieCredential('HEAD', header)).toBe('abc.def.ghi');
  });

  it('is never accepted on writes, so another site cannot make one with it', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) expect(cookieCredential(method, header), method).toBeUndefined();
  });

  it('is undefined without the cookie, or when it is empty', () => {
    expect(cookieCredential('GET', undefined)).toBeUndefined();
    expect(cookieCredential('GET', 'theme=dark')).toBeUndefined();
    expect(cookieCredential('GET', `${TOKEN_COOKIE}=`)).toBeUndefined();
    expect(cookieCredential('GET', `x${TOKEN_COOKIE}=abc`)).toBeUndefined();
  });
});
