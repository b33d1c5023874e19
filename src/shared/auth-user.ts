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
