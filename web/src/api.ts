/** The Storyforge HTTP API as the page uses it: JSON requests with the access token, refreshed when it runs out. */

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  /** When the access token runs out (ms since the epoch); added by the page when it keeps the tokens. */
  expiresAt?: number;
  user: { id: string; email: string; displayName: string | null };
}

/** An error answer of the API: `{ statusCode, code, message, errors? }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TOKENS_KEY = 'storyforge.tokens';
let tokens: Tokens | null = load();
let refreshing: Promise<boolean> | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<() => void>();

function load(): Tokens | null {
  try {
    return JSON.parse(localStorage.getItem(TOKENS_KEY) ?? 'null') as Tokens | null;
  } catch {
    return null;
  }
}

/** Milliseconds before the access token runs out at which it is renewed. */
const RENEW_BEFORE_MS = 60_000;

function store(next: Tokens | null): void {
  if (next && next.expiresAt === undefined) next = { ...next, expiresAt: Date.now() + next.expiresIn * 1000 };
  tokens = next;
  if (next) localStorage.setItem(TOKENS_KEY, JSON.stringify(next));
  else localStorage.removeItem(TOKENS_KEY);
  clearTimeout(refreshTimer);
  // Renew a minute before the access token runs out, so that the media cookie stays valid too.
  if (next) refreshTimer = setTimeout(() => void refresh(), Math.max(30_000, next.expiresAt! - Date.now() - RENEW_BEFORE_MS));
  listeners.forEach((listener) => listener());
}

/** The signed-in user, or null. */
export const currentUser = () => tokens?.user ?? null;
/** The access token (for the Socket.IO handshake). */
export const accessToken = () => tokens?.accessToken ?? null;
/** Calls `listener` when the user signs in or out. */
export function onAuthChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function refresh(): Promise<boolean> {
  if (!tokens) return false;
  refreshing ??= (async () => {
    try {
      const res = await fetch('/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refreshToken: tokens!.refreshToken }),
      });
      if (!res.ok) {
        store(null);
        return false;
      }
      store((await res.json()) as Tokens);
      await setCookie();
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Puts the access token in the HttpOnly cookie that `<img>`, `<audio>`, `<video>` and download links send. */
async function setCookie(): Promise<void> {
  if (!tokens) return;
  await fetch('/auth/cookie', { method: 'POST', headers: { Authorization: `Bearer ${tokens.accessToken}` } });
}

/**
 * One API request. `body` is sent as JSON, or as is when it is FormData. Retries once after
 * renewing the access token when the API answers 401.
 * @throws ApiError with the API's code and message for any 4xx/5xx answer.
 */
export async function api<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
  const headers: Record<string, string> = {};
  if (tokens) headers.Authorization = `Bearer ${tokens.accessToken}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload });
  if (res.status === 401 && tokens && !retried && !path.startsWith('/auth/')) {
    if (await refresh()) return api<T>(method, path, body, true);
  }
  if (!res.ok) {
    const error = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
    throw new ApiError(res.status, error.code ?? 'error', error.message ?? res.statusText);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Signs in (or registers) and sets the media cookie. @throws ApiError (401 wrong password, 409 email taken, 400 invalid). */
export async function signIn(kind: 'login' | 'register', body: { email: string; password: string; displayName?: string }): Promise<void> {
  const next = await api<Tokens>('POST', `/auth/${kind}`, body);
  tokens = next;
  await setCookie();
  store(next);
}

/** Ends the session on the server and forgets the tokens and the cookie. */
export async function signOut(): Promise<void> {
  try {
    if (tokens) await api('POST', '/auth/logout', {});
  } catch {
    // Signed out here whatever the server says.
  }
  await fetch('/auth/cookie', { method: 'DELETE' }).catch(() => undefined);
  store(null);
}

/**
 * On page load: renew the tokens (and the cookie with them) only when the access token runs out
 * soon; otherwise just schedule the renewal. Renewing on every load would rotate the refresh token
 * each time, and a page left while that answer was on its way would keep the old one, which the
 * API then takes for a stolen token and ends the session.
 */
export async function resumeSession(): Promise<void> {
  if (!tokens) return;
  if ((tokens.expiresAt ?? 0) - Date.now() > 2 * RENEW_BEFORE_MS) store(tokens);
  else await refresh();
}
