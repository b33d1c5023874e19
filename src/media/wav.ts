/**
 * A RIFF/WAVE file (44-byte canonical header, PCM format 1) around raw little-endian PCM samples.
 * @param pcm interleaved little-endian samples, as Gemini TTS sends them (`audio/L16;rate=24000`).
 * @param sampleRate samples per second per channel, Hz (e.g. 24 000).
 * @param channels 1 = mono.
 * @param bitsPerSample 16 for L16.
 * @throws RangeError when `pcm` does not hold a whole number of sample frames.
 */
export function pcmToWav(pcm: Uint8Array, sampleRate: number, channels = 1, bitsPerSample = 16): Uint8Array {
  const blockAlign = (channels * bitsPerSample) / 8;
  if (pcm.length % blockAlign !== 0) {
    throw new RangeError(`PCM data of ${pcm.length} bytes is not a whole number of ${blockAlign}-byte sample frames`);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(bitsPerSample, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return new Uint8Array(Buffer.concat([header, pcm]));
}

/** The sample layout and samples of a PCM WAV file, as {@link readPcmWav} finds them. */
export interface PcmWav {
  /** Samples per second per channel, Hz. */
  sampleRate: number;
  channels: number;
  /** 8, 16, 24 or 32 (integer PCM). */
  bitsPerSample: number;
  /** Bytes per sample frame (all channels). */
  blockAlign: number;
  /** Interleaved little-endian samples: whole frames only. */
  samples: Uint8Array;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/**
 * Reads a RIFF/WAVE file holding integer PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with the PCM
 * sub-format), as speech synthesizers write them (espeak-ng, Gemini via {@link pcmToWav}). Chunks
 * before `data` (LIST, fact …) are skipped. A `data` size larger than what follows (a writer that
 * streamed and never went back to fill it in, e.g. 0xFFFFFFFF) is cut to the bytes present, and
 * the samples to whole frames: what a decoder would decode.
 * @returns undefined for anything else (not RIFF/WAVE, float or compressed samples, no `fmt ` or
 * `data` chunk), which callers hand to ffmpeg instead.
 */
export function readPcmWav(data: Uint8Array): PcmWav | undefined {
  if (data.length < 12) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tag = (at: number) => String.fromCharCode(data[at]!, data[at + 1]!, data[at + 2]!, data[at + 3]!);
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return undefined;
  let format: Omit<PcmWav, 'samples'> | undefined;
  for (let at = 12; at + 8 <= data.length; ) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > data.length) return undefined;
      let code = view.getUint16(body, true);
      if (code === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= data.length) code = view.getUint16(body + 24, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      const blockAlign = view.getUint16(body + 12, true);
      const bitsPerSample = view.getUint16(body + 14, true);
      if (code !== WAVE_FORMAT_PCM || ![8, 16, 24, 32].includes(bitsPerSample) || !channels || !sampleRate || blockAlign !== (channels * bitsPerSample) / 8) return undefined;
      format = { sampleRate, channels, bitsPerSample, blockAlign };
    } else if (id === 'data') {
      if (!format) return undefined;
      const available = Math.min(size, data.length - body);
      const whole = available - (available % format.blockAlign);
      return { ...format, samples: data.subarray(body, body + whole) };
    }
    at = body + size + (size % 2); // chunks are padded to an even size
  }
  return undefined;
}

/** Duration of a PCM WAV's samples, ms, not rounded: frames ÷ sample rate. */
export function pcmDurationMs(wav: PcmWav): number {
  return ((wav.samples.length / wav.blockAlign) * 1000) / wav.sampleRate;
}

/**
 * The silences of a PCM WAV, ms, in order, by the rule of ffmpeg's `silencedetect` (which the
 * same clips in other formats go through): a silence is a run of at least `minSilenceMs` in which
 * no sample of any channel reaches `noiseDb` dBFS (amplitude 10^(noiseDb/20) of full scale); it
 * starts at the run's first frame and ends at the first frame that is louder. One still open at
 * the end ends at the last frame.
 */
export function pcmSilences(wav: PcmWav, noiseDb = -40, minSilenceMs = 120): { startMs: number; endMs: number }[] {
  const { samples, sampleRate, channels, bitsPerSample, blockAlign } = wav;
  const bytes = bitsPerSample / 8;
  const fullScale = 2 ** (bitsPerSample - 1);
  const threshold = 10 ** (noiseDb / 20) * fullScale;
  const view = new DataView(samples.buffer, samples.byteOffset, samples.byteLength);
  const read =
    bitsPerSample === 8
      ? (at: number) => view.getUint8(at) - 128
      : bitsPerSample === 16
        ? (at: number) => view.getInt16(at, true)
        : bitsPerSample === 24
          ? (at: number) => (view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16))
          : (at: number) => view.getInt32(at, true);
  const frames = samples.length / blockAlign;
  const minFrames = Math.ceil((minSilenceMs * sampleRate) / 1000);
  const ms = (frame: number) => (frame * 1000) / sampleRate;
  const silences: { startMs: number; endMs: number }[] = [];
  let runStart = 0;
  for (let frame = 0; frame < frames; frame++) {
    let loud = false;
    for (let channel = 0, at = frame * blockAlign; channel < channels; channel++, at += bytes) {
      if (Math.abs(read(at)) >= threshold) {
        loud = true;
        break;
      }
    }
    if (loud) {
      if (frame - runStart >= minFrames) silences.push({ startMs: ms(runStart), endMs: ms(frame) });
      runStart = frame + 1;
    }
  }
  if (frames - runStart >= minFrames) silences.push({ startMs: ms(runStart), endMs: ms(frames) });
  return silences;
}

/**
 * Joins mono 16-bit PCM clips of one sample rate into one WAV file, in this process: each clip
 * faded in and out linearly over `fadeMs` (at most half the clip, like `buildJoinClipsArgs`'s
 * `afade`), `round(pauseMs × rate / 1000)` samples of silence between two clips. The samples
 * are otherwise copied as they are (no resampling: the encode that follows resamples once).
 * @returns the WAV bytes, or undefined when the clips are not all mono 16-bit PCM at one rate
 * (ffmpeg joins those).
 * @throws Error when there are no clips; RangeError when the result exceeds a RIFF file's 4 GiB.
 */
export function joinPcmWavs(clips: readonly PcmWav[], options: { pauseMs: number; fadeMs?: number }): Uint8Array | undefined {
  const first = clips[0];
  if (!first) throw new Error('joinPcmWavs: no clips to join');
  const { sampleRate } = first;
  if (!clips.every((c) => c.channels === 1 && c.bitsPerSample === 16 && c.sampleRate === sampleRate)) return undefined;
  const pauseFrames = Math.max(0, Math.round((options.pauseMs * sampleRate) / 1000));
  const fadeFrames = Math.round(((options.fadeMs ?? 10) * sampleRate) / 1000);
  const total = clips.reduce((sum, c) => sum + c.samples.length, 0) + pauseFrames * 2 * (clips.length - 1);
  if (total + 36 > 0xffffffff) throw new RangeError(`joined narration of ${total} bytes is too large for a WAV file`);
  const pcm = Buffer.alloc(total);
  let at = 0;
  for (const [i, clip] of clips.entries()) {
    pcm.set(clip.samples, at);
    const frames = clip.samples.length / 2;
    const fade = Math.min(fadeFrames, Math.floor(frames / 2));
    for (let k = 0; k < fade; k++) {
      const gain = k / fade;
      const head = at + k * 2;
      const tail = at + (frames - 1 - k) * 2;
      pcm.writeInt16LE(Math.round(pcm.readInt16LE(head) * gain), head);
      pcm.writeInt16LE(Math.round(pcm.readInt16LE(tail) * gain), tail);
    }
    at += clip.samples.length + (i < clips.length - 1 ? pauseFrames * 2 : 0);
  }
  return pcmToWav(pcm, sampleRate, 1, 16);
}
