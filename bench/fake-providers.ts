/**
 * The fake OpenAI-compatible provider (test/support/fake-openai-server.ts) as a process of its
 * own, for the benchmarks: `fork(… fake-providers.js, [JSON latencies])`. It sends `{ baseUrl }`
 * over IPC when it listens, answers the message `stats` with the requests and most in flight per
 * route, and `reset` by forgetting them. Speech answers are WAV (no ffmpeg per call).
 */
import { FakeOpenAiServer, type FakeRoute } from '../test/support/fake-openai-server.js';

const latencyMs = JSON.parse(process.argv[2] ?? '{}') as Partial<Record<FakeRoute, number>>;
const server = new FakeOpenAiServer({ latencyMs, speechFormat: 'wav' });
const { baseUrl } = await server.start();
process.send!({ baseUrl });
process.on('message', (message) => {
  if (message === 'stats') {
    const byRoute = Object.fromEntries(Object.entries(server.stats.byRoute).map(([route, s]) => [route, { count: s.count, maxInFlight: s.maxInFlight }]));
    process.send!(byRoute);
  } else if (message === 'reset') {
    server.reset();
    server.requests.length = 0;
    process.send!({});
  }
});
// The request log would grow without bound over a long run: keep none.
setInterval(() => (server.requests.length = 0), 1000).unref();
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
process.on('disconnect', () => void server.close().then(() => process.exit(0)));
