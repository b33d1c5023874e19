/**
 * B1 orchestration: a batch of 10 stories on fake providers with fixed latencies (story 400 ms,
 * image 300 ms, speech 150 ms; at most 4 calls in flight per capability), text, images and audio
 * (no merge: its ffmpeg CPU is B3's). Each story has 9 image and 9 audio chunks.
 *
 * The analytic lower bound: no image or speech call can start before the first story call ends
 * (400 ms), and each capability's calls then take at least calls × latency ÷ 4 in all; the story
 * calls themselves at least 10 × 400 ÷ 4. The bound is the largest of
 *   400 + N_images × 300 ÷ 4,  400 + N_speech × 150 ÷ 4,  N_story × 400 ÷ 4
 * (90 images and 90 clips: 400 + 6,750 = 7,150 ms). Figure: makespan ÷ bound (median of
 * `--repeat` batches), target ≤ 1.10; and the speed-up over running the stories one at a time
 * (each story its own batch, the next started when the last has ended; `--sequential` stories,
 * scaled to 10) on the same fakes.
 */
import { figure, load1, median, report, startBenchApp, startFakeProviders, fakeProviderEnv, storyTexts, arg } from './support.js';

const REPEAT = Number(arg('repeat') ?? 3);
const LATENCY = { chat: 400, images: 300, speech: 150 };
const LIMIT = 4;
const STORIES = 10;
const WORDS_PER_CHUNK = 40;
/** Words per story that the chunker (sentence ends) cuts into 9 chunks of at most 40 words. */
const STORY_WORDS = 255;
const SEQUENTIAL = Number(arg('sequential') ?? 4);

const fakes = await startFakeProviders(LATENCY);
const bench = await startBenchApp({
  ...fakeProviderEnv(fakes.baseUrl),
  PROVIDER_LIMITS: JSON.stringify({ 'openai-compatible': { maxConcurrent: LIMIT } }),
  STORY_CONCURRENCY: String(LIMIT),
  IMAGE_CONCURRENCY: String(LIMIT),
  AUDIO_CONCURRENCY: String(LIMIT),
});
try {
  const autoMode = { generateImages: true, generateAudio: true, mergeAudio: false, wordPerChunkImage: WORDS_PER_CHUNK, wordPerChunkAudio: WORDS_PER_CHUNK };
  const files = await storyTexts(STORIES, STORY_WORDS);
  // Warm-up (connections, prepared statements, JIT): one story, not counted.
  await bench.runBatch(await bench.upload(files.slice(0, 1)), autoMode);
  const ratios: number[] = [];
  const loads: number[] = [];
  const rows: string[] = [];
  let bound = 0;
  let calls = { chat: 0, images: 0, speech: 0 };
  for (let round = 1; round <= REPEAT; round++) {
    const uploadIds = await bench.upload(files);
    await fakes.reset();
    const load = load1();
    const { makespanMs } = await bench.runBatch(uploadIds, autoMode);
    const stats = await fakes.stats();
    calls = { chat: stats.chat?.count ?? 0, images: stats.images?.count ?? 0, speech: stats.speech?.count ?? 0 };
    bound = Math.max(LATENCY.chat + (calls.images * LATENCY.images) / LIMIT, LATENCY.chat + (calls.speech * LATENCY.speech) / LIMIT, (calls.chat * LATENCY.chat) / LIMIT);
    const inFlight = `${stats.chat?.maxInFlight}/${stats.images?.maxInFlight}/${stats.speech?.maxInFlight}`;
    ratios.push(makespanMs / bound);
    loads.push(load);
    rows.push(`| ${round} | ${(makespanMs / 1000).toFixed(2)} | ${(bound / 1000).toFixed(2)} | ${(makespanMs / bound).toFixed(2)} | ${calls.chat}/${calls.images}/${calls.speech} | ${inFlight} | ${load} |`);
  }
  const ratio = median(ratios);

  // The one-story-at-a-time design: each story its own batch, one after the other (SEQUENTIAL of
  // them, scaled to the batch's story count to keep the run short).
  const uploadIds = await bench.upload(files.slice(0, SEQUENTIAL));
  const sequentialLoad = load1();
  let measuredMs = 0;
  for (const id of uploadIds) measuredMs += (await bench.runBatch([id], autoMode)).makespanMs;
  const sequentialMs = (measuredMs * STORIES) / SEQUENTIAL;
  const batchMs = ratio * bound;
  await report({
    id: 'B1',
    title: 'orchestration',
    figures: [
      figure('makespan ÷ analytic bound', ratio, ratio.toFixed(2), loads, { atMost: 1.1 }),
      figure('speed-up over one story at a time', sequentialMs / batchMs, `${(sequentialMs / batchMs).toFixed(2)}×`, [sequentialLoad]),
    ],
    details: [
      `${STORIES} stories of about ${STORY_WORDS} words, ${WORDS_PER_CHUNK} words per image and per audio chunk; fakes in their own process: story ${LATENCY.chat} ms, image ${LATENCY.images} ms, speech ${LATENCY.speech} ms (WAV), PROVIDER_LIMITS maxConcurrent ${LIMIT} per capability, STORY/IMAGE/AUDIO_CONCURRENCY ${LIMIT}; no merge. Makespan = batch created → batch completed (database times).`,
      '',
      '| round | makespan (s) | bound (s) | ratio | calls story/image/speech | most in flight | load before |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      `One story at a time (${SEQUENTIAL} batches of one story, one after the other): ${(measuredMs / 1000).toFixed(2)} s, ${(sequentialMs / 1000).toFixed(2)} s for ${STORIES} stories (load before ${sequentialLoad}); the batch (median) ${(batchMs / 1000).toFixed(2)} s.`,
    ],
  });
} finally {
  await bench.close();
  await fakes.close();
}
