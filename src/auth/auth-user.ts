/** Who made a request: set by the auth guard (HTTP) or at the socket handshake (WebSocket). */
export interface AuthUser {
  id: string;
  email: string;
  /** The sign-in session of a JWT access token; absent for API keys. */
  sessionId?: string;
  /** The API key used; absent for JWTs. */
  apiKeyId?: string;
}

/** API keys start with this, so that a key can be told from a JWT at a glance (and by code). */
export const API_KEY_PREFIX = 'sfk_';

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
