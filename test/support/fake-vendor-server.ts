/**
 * A small local HTTP server for wire tests of vendor providers (Gemini, Anthropic, OpenAI
 * responses, ElevenLabs, Automatic1111, ComfyUI …). Tests only: nothing in `src/` defaults to it.
 *
 * Each test installs handlers with {@link FakeVendorServer.on} (method + path pattern); the first
 * matching handler answers. Every request is logged with its headers (lower-case names), raw
 * body and parsed JSON body before it is answered, so a test can check it as the vendor documents
 * it. Unmatched requests answer 404 `{"error":"no handler"}`. In-flight counts are kept.
 */
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface VendorRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary wire fields
}

export interface VendorReply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a Buffer as is. */
  body?: unknown;
  delayMs?: number;
}

type Handler = (request: VendorRequest, match: RegExpMatchArray) => VendorReply | Promise<VendorReply>;

export class FakeVendorServer {
  readonly requests: VendorRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private handlers: { method: string; path: RegExp; handler: Handler }[] = [];
  private server?: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  /** Adds a handler; later handlers for the same route come after earlier ones. */
  on(method: string, path: RegExp, handler: Handler): this {
    this.handlers.push({ method, path, handler });
    return this;
  }

  /** Forgets handlers, the request log and the in-flight maximum. */
  reset(): void {
    this.handlers = [];
    this.requests.length = 0;
    this.maxInFlight = 0;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => void this.answer(req, Buffer.concat(chunks), res));
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async answer(req: http.IncomingMessage, rawBody: Buffer, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let body: unknown;
    try {
      body = rawBody.length ? JSON.parse(rawBody.toString('utf8')) : undefined;
    } catch {
      body = undefined;
    }
    const request: VendorRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, rawBody, body };
    this.requests.push(request);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      let reply: VendorReply = { status: 404, body: { error: 'no handler' } };
      for (const { method, path, handler } of this.handlers) {
        const match = request.path.match(path);
        if (method === request.method && match) {
          reply = await handler(request, match);
          break;
        }
      }
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      const payload = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body === undefined ? '' : JSON.stringify(reply.body));
      const type = Buffer.isBuffer(reply.body) ? 'application/octet-stream' : 'application/json';
      res.writeHead(reply.status ?? 200, { 'content-type': type, ...reply.headers });
      res.end(payload);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: String(error) }));
    } finally {
      this.inFlight--;
    }
  }
}
