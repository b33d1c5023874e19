/**
 * B2 overhead: the pipeline's own cost per chunk step. With zero-latency fakes, a batch of stories
 * (images and audio, no merge) is run and its chunk steps per second (image + audio chunk jobs ÷
 * batch makespan) are set against a bare BullMQ worker's no-op jobs per second on the same Redis,
 * with the same number of jobs in flight (IMAGE_CONCURRENCY + AUDIO_CONCURRENCY). Target ≥ 0.3.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { arg, fakeProviderEnv, figure, load1, median, report, startBenchApp, startFakeProviders, storyTexts } from './support.js';

const REPEAT = Number(arg('repeat') ?? 3);
const STORIES = Number(arg('stories') ?? 4);
const CONCURRENCY = 4;
const WORDS_PER_CHUNK = 40;
const NOOP_JOBS = 3000;

/** Jobs per second of a bare BullMQ worker that does nothing, `concurrency` at a time. */
async function bareBullmq(redisUrl: string, concurrency: number): Promise<number> {
  const url = new URL(redisUrl);
  const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
  const prefix = `bench-noop-${randomBytes(4).toString('hex')}`;
  const queue = new Queue('noop', { connection, prefix });
  await queue.addBulk(Array.from({ length: NOOP_JOBS }, (_, i) => ({ name: 'noop', data: { i }, opts: { removeOnComplete: true } })));
  let done = 0;
  const started = performance.now();
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker('noop', async () => undefined, { connection, prefix, concurrency });
    worker.on('completed', () => {
      if (++done === NOOP_JOBS) void worker.close().then(resolve);
    });
  });
  await finished;
  const rate = NOOP_JOBS / ((performance.now() - started) / 1000);
  await queue.obliterate({ force: true });
  await queue.close();
  return rate;
}

const fakes = await startFakeProviders({ chat: 0, images: 0, speech: 0 });
const bench = await startBenchApp({ ...fakeProviderEnv(fakes.baseUrl), STORY_CONCURRENCY: String(CONCURRENCY), IMAGE_CONCURRENCY: String(CONCURRENCY), AUDIO_CONCURRENCY: String(CONCURRENCY) });
try {
  const autoMode = { generateImages: true, generateAudio: true, mergeAudio: false, wordPerChunkImage: WORDS_PER_CHUNK, wordPerChunkAudio: WORDS_PER_CHUNK };
  const files = await storyTexts(STORIES, 260);
  await bench.runBatch(await bench.upload(files.slice(0, 1)), autoMode); // warm-up
  const ratios: number[] = [];
  const loads: number[] = [];
  const rows: string[] = [];
  for (let round = 1; round <= REPEAT; round++) {
    const uploadIds = await bench.upload(files);
    await fakes.reset();
    const load = load1();
    const { makespanMs } = await bench.runBatch(uploadIds, autoMode);
    const stats = await fakes.stats();
    const steps = (stats.images?.count ?? 0) + (stats.speech?.count ?? 0);
    const stepsPerS = steps / (makespanMs / 1000);
    const noopPerS = await bareBullmq(bench.config.redisUrl, 2 * CONCURRENCY);
    ratios.push(stepsPerS / noopPerS);
    loads.push(load);
    rows.push(`| ${round} | ${steps} | ${(makespanMs / 1000).toFixed(2)} | ${stepsPerS.toFixed(1)} | ${noopPerS.toFixed(0)} | ${(stepsPerS / noopPerS).toFixed(4)} | ${load} |`);
  }
  const ratio = median(ratios);
  await report({
    id: 'B2',
    title: 'overhead',
    figures: [figure('chunk steps per s ÷ bare BullMQ no-op jobs per s', ratio, ratio.toFixed(4), loads, { atLeast: 0.3 })],
    details: [
      `${STORIES} stories of about 260 words, ${WORDS_PER_CHUNK} words per image and audio chunk, zero-latency fakes in their own process (images 256 px PNG, speech WAV); IMAGE/AUDIO_CONCURRENCY ${CONCURRENCY}; bare BullMQ: ${NOOP_JOBS} no-op jobs, concurrency ${2 * CONCURRENCY}, same Redis.`,
      '',
      '| round | chunk steps | makespan (s) | chunk steps/s | no-op jobs/s | ratio | load before |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
    ],
  });
} finally {
  await bench.close();
  await fakes.close();
}
