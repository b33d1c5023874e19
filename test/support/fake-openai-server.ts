/**
 * A local HTTP server that speaks enough of OpenAI's wire format for Storyforge's
 * `openai-compatible` providers, over real sockets. For tests and benchmarks only: nothing in
 * `src/` ever defaults to it; point a provider's `baseUrl` at {@link FakeOpenAiServer.start}'s
 * answer instead.
 *
 * Routes (all under `/v1`):
 *
 * | route    | path                           | default answer |
 * | -------- | ------------------------------ | -------------- |
 * | `chat`   | `POST /v1/chat/completions`    | a `chat.completion` whose content is the story JSON `{title, story, imagePrompts}` built from the user message (see {@link defaultStoryAnswer}) |
 * | `images` | `POST /v1/images/generations`  | `{created, data: [{b64_json}]}` holding a real PNG (pure JS: zlib + CRC-32), a gradient coloured by the prompt, sized like the requested `size` scaled to at most 256 px (or the full size with `fullSizeImages`) |
 * | `speech` | `POST /v1/audio/speech`        | real audio: a 24 kHz 16-bit mono PCM tone lasting 1/15 s per input character (at least 0.3 s). When `response_format` is `mp3` (or absent, OpenAI's default) it is encoded to MP3 with `ffmpeg` (`audio/mpeg`); with `speechFormat: 'wav'`, for any other format, or when ffmpeg fails, the WAV itself is sent as `audio/wav` |
 * | `models` | `GET /v1/models`               | a model list |
 *
 * Anything else answers 404 with an OpenAI error body.
 *
 * How a request is answered, first match wins:
 * 1. a canned reply queued for its route with {@link FakeOpenAiServer.enqueue} (FIFO);
 * 2. the fault injector set with {@link FakeOpenAiServer.setFaultInjector}, when it returns a reply;
 * 3. the default answer above, after the route's `latencyMs`.
 *
 * A reply ({@link FakeReply}) can be the default answer, a chat answer with any content,
 * finish reason or refusal, an HTTP error with any status, headers (e.g. `Retry-After`) and
 * message, a raw body (malformed JSON …), a request that never answers (`hang`) or a dropped
 * connection (`drop`); every kind takes a `delayMs`.
 *
 * Fault injection: the injector sees every request that has no canned reply, with the route and
 * its 0-based call number on that route, so a benchmark can fail a deterministic fraction of calls:
 *
 * ```ts
 * server.setFaultInjector((_request, { route, index }) =>
 *   route === 'images' && index % 5 === 2
 *     ? { kind: 'error', status: 429, message: 'Rate limit reached', headers: { 'retry-after': '1' } }
 *     : undefined,
 * );
 * ```
 *
 * Every request is logged ({@link FakeOpenAiServer.requests}): method, path, route, headers
 * (lower-case names) and the parsed JSON body, before it is answered. In-flight counts
 * ({@link FakeOpenAiServer.stats}) show how busy each route was kept.
 */
import { spawn } from 'node:child_process';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export type FakeRoute = 'chat' | 'images' | 'speech' | 'models';

/** One logged request. */
export interface FakeRequest {
  /** 1-based, in arrival order. */
  id: number;
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  /** Undefined for unknown paths. */
  route?: FakeRoute;
  /** Lower-case header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; undefined when the body is empty or not JSON (see `rawBody`). */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary wire fields
  rawBody: string;
  /** `Date.now()` when the request arrived. */
  receivedAt: number;
}

/** What to answer one request with. Every kind waits `delayMs` first (default 0). */
export type FakeReply =
  /** The route's default answer (after `delayMs` instead of the route's latency). */
  | { kind: 'default'; delayMs?: number }
  /** A chat completion with this content; `refusal` sets OpenAI's refusal field (content then null). */
  | {
      kind: 'chat';
      content?: string | null;
      refusal?: string;
      /** `stop` (default), `length`, `content_filter` … */
      finishReason?: string;
      delayMs?: number;
    }
  /** An HTTP error with an OpenAI error body `{error: {message, type, code}}`, or `body` verbatim. */
  | {
      kind: 'error';
      status: number;
      message?: string;
      type?: string;
      code?: string;
      headers?: Record<string, string>;
      body?: string | object;
      delayMs?: number;
    }
  /** Any status, headers and body, e.g. malformed JSON. Content type defaults to application/json. */
  | { kind: 'raw'; status?: number; headers?: Record<string, string>; body: string | Uint8Array; delayMs?: number }
  /** Never answers; the socket stays open until the client gives up or the server closes. */
  | { kind: 'hang' }
  /** Destroys the socket without an answer (the client sees a connection reset). */
  | { kind: 'drop'; delayMs?: number };

/** Decides a reply for a request with no canned reply; undefined means "answer normally". */
export type FaultInjector = (request: FakeRequest, call: { route: FakeRoute; index: number }) => FakeReply | undefined;

export interface FakeOpenAiServerOptions {
  /** Latency of default answers per route, ms (e.g. `{ chat: 400, images: 300, speech: 150 }`). */
  latencyMs?: Partial<Record<FakeRoute, number>>;
  /**
   * When set, requests that would get the default answer but lack `Authorization: Bearer <apiKey>`
   * get a 401 like OpenAI's (canned replies and injected faults are sent regardless).
   */
  apiKey?: string;
  /** `auto` (default): MP3 via ffmpeg when MP3 is asked for; `wav`: always WAV. */
  speechFormat?: 'auto' | 'wav';
  /** ffmpeg binary for MP3 encoding; default `ffmpeg`. */
  ffmpegPath?: string;
  /** Return images at the requested size instead of at most 256 px. */
  fullSizeImages?: boolean;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
}

/** The user message markers and the image-prompt line that the story writer's prompt carries. */
const SOURCE_START = '--- SOURCE TEXT START ---';
const SOURCE_END = '--- SOURCE TEXT END ---';

export class FakeOpenAiServer {
  /** Every request received, in order. */
  readonly requests: FakeRequest[] = [];
  /** In-flight requests now and at most, overall and per route. */
  readonly stats = {
    inFlight: 0,
    maxInFlight: 0,
    byRoute: {} as Partial<Record<FakeRoute, { inFlight: number; maxInFlight: number; count: number }>>,
  };

  private server?: http.Server;
  private readonly queues = new Map<FakeRoute, FakeReply[]>();
  private faultInjector?: FaultInjector;
  private readonly mp3Cache = new Map<number, Promise<Buffer | undefined>>();
  private nextId = 1;

  constructor(private readonly options: FakeOpenAiServerOptions = {}) {}

  /** Listens on a free port; `baseUrl` ends in `/v1`, ready for a provider's `baseUrl`. */
  async start(): Promise<{ baseUrl: string; port: number }> {
    if (this.server) throw new Error('FakeOpenAiServer already started');
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          sendJson(res, 500, { error: { message: `fake server failure: ${String(error)}`, type: 'server_error' } });
        } else {
          res.destroy();
        }
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return { baseUrl: `http://${this.options.host ?? '127.0.0.1'}:${port}/v1`, port };
  }

  /** Stops listening and cuts open connections (including `hang` replies). */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Queues canned replies for a route, used before anything else, first in first out. */
  enqueue(route: FakeRoute, ...replies: FakeReply[]): this {
    const queue = this.queues.get(route) ?? [];
    queue.push(...replies);
    this.queues.set(route, queue);
    return this;
  }

  /** Sets (or with no argument removes) the hook that may turn a request into a fault. */
  setFaultInjector(injector?: FaultInjector): this {
    this.faultInjector = injector;
    return this;
  }

  /** Logged requests to one route. */
  requestsTo(route: FakeRoute): FakeRequest[] {
    return this.requests.filter((request) => request.route === route);
  }

  /** Clears the log, the queues, the fault injector and the stats. */
  reset(): void {
    this.requests.length = 0;
    this.queues.clear();
    this.faultInjector = undefined;
    this.stats.inFlight = 0;
    this.stats.maxInFlight = 0;
    this.stats.byRoute = {};
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
    const route = routeOf(req.method ?? 'GET', path);
    const request: FakeRequest = {
      id: this.nextId++,
      method: req.method ?? 'GET',
      path,
      route,
      headers: req.headers,
      body: parseJson(rawBody),
      rawBody,
      receivedAt: Date.now(),
    };
    this.requests.push(request);

    if (!route) {
      sendJson(res, 404, { error: { message: `Unknown request URL: ${req.method} ${path}`, type: 'invalid_request_error', code: 'unknown_url' } });
      return;
    }

    const routeStats = (this.stats.byRoute[route] ??= { inFlight: 0, maxInFlight: 0, count: 0 });
    const index = routeStats.count++;
    this.stats.inFlight++;
    routeStats.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.stats.inFlight);
    routeStats.maxInFlight = Math.max(routeStats.maxInFlight, routeStats.inFlight);
    res.once('close', () => {
      this.stats.inFlight--;
      routeStats.inFlight--;
    });

    const reply = this.queues.get(route)?.shift() ?? this.faultInjector?.(request, { route, index }) ?? { kind: 'default' };
    await this.reply(route, request, reply, res);
  }

  private async reply(route: FakeRoute, request: FakeRequest, reply: FakeReply, res: ServerResponse): Promise<void> {
    if (reply.kind === 'hang') return;
    const delayMs = reply.kind === 'default' ? (reply.delayMs ?? this.options.latencyMs?.[route] ?? 0) : (reply.delayMs ?? 0);
    if (!(await wait(delayMs, res))) return;

    switch (reply.kind) {
      case 'drop':
        res.socket?.destroy();
        return;
      case 'error': {
        const body =
          reply.body ?? {
            error: {
              message: reply.message ?? http.STATUS_CODES[reply.status] ?? 'error',
              type: reply.type ?? (reply.status >= 500 ? 'server_error' : 'invalid_request_error'),
              param: null,
              code: reply.code ?? null,
            },
          };
        send(res, reply.status, typeof body === 'string' ? body : JSON.stringify(body), {
          'content-type': 'application/json',
          ...reply.headers,
        });
        return;
      }
      case 'raw':
        send(res, reply.status ?? 200, reply.body, { 'content-type': 'application/json', ...reply.headers });
        return;
      case 'chat':
        sendJson(res, 200, chatCompletion(request, reply.content ?? null, reply.finishReason ?? 'stop', reply.refusal));
        return;
      case 'default':
        break;
    }

    if (this.options.apiKey !== undefined && request.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      sendJson(res, 401, {
        error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
      });
      return;
    }
    switch (route) {
      case 'chat':
        if (request.body?.stream === true) {
          sendJson(res, 400, { error: { message: 'the fake server does not stream', type: 'invalid_request_error' } });
          return;
        }
        sendJson(res, 200, chatCompletion(request, defaultStoryAnswer(userMessage(request.body)), 'stop'));
        return;
      case 'images': {
        const png = pngFor(String(request.body?.prompt ?? ''), String(request.body?.size ?? '256x256'), this.options.fullSizeImages);
        sendJson(res, 200, { created: Math.floor(Date.now() / 1000), data: [{ b64_json: png.toString('base64') }] });
        return;
      }
      case 'speech': {
        const { body, contentType } = await this.speechFor(request);
        if (!res.destroyed) send(res, 200, body, { 'content-type': contentType });
        return;
      }
      case 'models':
        sendJson(res, 200, {
          object: 'list',
          data: ['fake-chat', 'fake-image', 'fake-speech'].map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })),
        });
        return;
    }
  }

  private async speechFor(request: FakeRequest): Promise<{ body: Buffer; contentType: string }> {
    const text = String(request.body?.input ?? '');
    const durationMs = Math.max(300, Math.round((text.length * 1000) / 15));
    const wav = wavTone(durationMs);
    const format = request.body?.response_format ?? 'mp3';
    if (format === 'mp3' && this.options.speechFormat !== 'wav') {
      let encoded = this.mp3Cache.get(durationMs);
      if (!encoded) {
        encoded = encodeMp3(wav, this.options.ffmpegPath ?? 'ffmpeg');
        this.mp3Cache.set(durationMs, encoded);
      }
      const mp3 = await encoded;
      if (mp3) return { body: mp3, contentType: 'audio/mpeg' };
    }
    return { body: wav, contentType: 'audio/wav' };
  }
}

// ---------------------------------------------------------------------------------------------
// Default answers

/**
 * The default story answer for a user message: the text between the source markers becomes the
 * story (paragraphs kept), its first sentence (up to 8 words) the title, and one image prompt is made
 * per `one image prompt per about N words` (N read from the message, 120 when absent) of story.
 */
export function defaultStoryAnswer(userText: string): string {
  const start = userText.indexOf(SOURCE_START);
  const end = userText.indexOf(SOURCE_END);
  const source = (start !== -1 && end > start ? userText.slice(start + SOURCE_START.length, end) : userText).trim();
  const story =
    source
      .split(/\n\s*\n/)
      .map((paragraph) => paragraph.replace(/\s+/g, ' ').trim())
      .filter((paragraph) => paragraph !== '')
      .join('\n\n') || 'Once upon a time there was a story with no words.';
  const firstSentence = story.split('\n')[0]!.split(/(?<=[.!?…])\s/)[0]!;
  const title = firstSentence.split(' ').slice(0, 8).join(' ').replace(/[.,;:!?…]+$/, '');
  const per = Number(/per about (\d+) words/i.exec(userText)?.[1] ?? 120) || 120;
  const words = story.split(/\s+/).filter((word) => word !== '');
  const count = Math.max(1, Math.round(words.length / per));
  const size = Math.ceil(words.length / count);
  const imagePrompts = Array.from(
    { length: count },
    (_, i) => `Illustration ${i + 1} of ${count}: ${words.slice(i * size, i * size + 12).join(' ')}`,
  );
  return JSON.stringify({ title: title || 'Untitled story', story, imagePrompts });
}

function chatCompletion(request: FakeRequest, content: string | null, finishReason: string, refusal?: string): object {
  const promptTokens = Math.ceil(request.rawBody.length / 4);
  const completionTokens = Math.ceil((content ?? refusal ?? '').length / 4);
  return {
    id: `chatcmpl-fake-${request.id}`,
    object: 'chat.completion',
    created: Math.floor(request.receivedAt / 1000),
    model: String(request.body?.model ?? 'fake-chat'),
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: refusal !== undefined ? null : content, refusal: refusal ?? null },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

/**
 * Text of the last user message that carries the source markers, else of the last user message
 * (string content or text parts). A re-ask after a bad answer adds a user message without the
 * source; the default answer is still built from the story's source.
 */
function userMessage(body: unknown): string {
  const messages = (body as { messages?: Array<{ role?: string; content?: unknown }> } | undefined)?.messages ?? [];
  const texts = messages
    .filter((message) => message.role === 'user')
    .map((message) => {
      if (typeof message.content === 'string') return message.content;
      if (Array.isArray(message.content)) {
        return message.content.map((part: { type?: string; text?: string }) => (part.type === 'text' ? (part.text ?? '') : '')).join('\n');
      }
      return '';
    })
    .reverse();
  return texts.find((text) => text.includes(SOURCE_START)) ?? texts[0] ?? '';
}

// ---------------------------------------------------------------------------------------------
// PNG (pure JS)

/** A deterministic gradient PNG for a prompt, RGB 8-bit. */
export function pngFor(prompt: string, size: string, fullSize = false): Buffer {
  const match = /^(\d+)x(\d+)$/.exec(size);
  let width = match ? Number(match[1]) : 256;
  let height = match ? Number(match[2]) : 256;
  if (!fullSize) {
    const scale = Math.min(1, 256 / Math.max(width, height));
    width = Math.max(1, Math.round(width * scale));
    height = Math.max(1, Math.round(height * scale));
  }
  const hash = zlib.crc32(prompt);
  const [r, g, b] = [(hash >>> 16) & 0xff, (hash >>> 8) & 0xff, hash & 0xff];
  const rowLength = 1 + width * 3;
  const raw = Buffer.alloc(rowLength * height);
  for (let y = 0; y < height; y++) {
    raw[y * rowLength] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const offset = y * rowLength + 1 + x * 3;
      raw[offset] = (r + (x * 128) / width) & 0xff;
      raw[offset + 1] = (g + (y * 128) / height) & 0xff;
      raw[offset + 2] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

// ---------------------------------------------------------------------------------------------
// Audio

const SAMPLE_RATE = 24_000;

/** A RIFF WAV, PCM 16-bit mono 24 kHz: a 220 Hz tone with a 3 Hz "syllable" swell and 20 ms fades. */
export function wavTone(durationMs: number): Buffer {
  const samples = Math.round((SAMPLE_RATE * durationMs) / 1000);
  const fade = Math.min(Math.round(SAMPLE_RATE * 0.02), Math.floor(samples / 2));
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(SAMPLE_RATE, 24);
  wav.writeUInt32LE(SAMPLE_RATE * 2, 28); // byte rate
  wav.writeUInt16LE(2, 32); // block align
  wav.writeUInt16LE(16, 34); // bits per sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    const t = i / SAMPLE_RATE;
    const envelope = Math.min(1, i / Math.max(1, fade), (samples - 1 - i) / Math.max(1, fade));
    const swell = 0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t);
    const value = 0.3 * envelope * swell * Math.sin(2 * Math.PI * 220 * t);
    wav.writeInt16LE(Math.round(value * 32767), 44 + i * 2);
  }
  return wav;
}

/** MP3 of a WAV via ffmpeg (libmp3lame, 64 kb/s); undefined when ffmpeg is missing or fails. */
function encodeMp3(wav: Buffer, ffmpeg: string): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const child = spawn(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'wav', '-i', 'pipe:0', '-codec:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3', 'pipe:1'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => resolve(code === 0 && chunks.length > 0 ? Buffer.concat(chunks) : undefined));
    child.stdin.on('error', () => undefined);
    child.stdin.end(wav);
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing

function routeOf(method: string, path: string): FakeRoute | undefined {
  if (method === 'POST' && path === '/v1/chat/completions') return 'chat';
  if (method === 'POST' && path === '/v1/images/generations') return 'images';
  if (method === 'POST' && path === '/v1/audio/speech') return 'speech';
  if (method === 'GET' && path === '/v1/models') return 'models';
  return undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Waits, unless the client goes away first; true when the answer should still be sent. */
function wait(ms: number, res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once('close', onClose);
  });
}

function send(res: ServerResponse, status: number, body: string | Uint8Array, headers: Record<string, string>): void {
  if (res.destroyed) return;
  const buffer = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  res.writeHead(status, { ...headers, 'content-length': String(buffer.length) });
  res.end(buffer);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), { 'content-type': 'application/json' });
}
