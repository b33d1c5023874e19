/** Reading a request's credential: the Authorization or X-API-Key header, or the web page's token cookie. */

/**
 * The credential in request headers: `Authorization: Bearer <JWT or API key>` or
 * `X-API-Key: <API key>`. Undefined when there is none.
 */
export function credentialFrom(headers: Record<string, string | string[] | undefined>): string | undefined {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim()) return apiKey.trim();
  const authorization = headers.authorization;
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}

/** Name of the cookie that carries a JWT access token for the web page's media and download links. */
export const TOKEN_COOKIE = 'storyforge_token';

/**
 * The access token in the {@link TOKEN_COOKIE} cookie, for GET and HEAD requests only: an
 * `<audio>`, `<img>` or download link cannot send an Authorization header, and accepting the
 * cookie on reads only means a page on another site can never make a write with it (no CSRF;
 * the cookie is also SameSite=Strict). Undefined for other methods or when there is no cookie.
 */
export function cookieCredential(method: string, cookieHeader: string | undefined): string | undefined {
  if ((method !== 'GET' && method !== 'HEAD') || !cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== TOKEN_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return value || undefined;
  }
  return undefined;
}
