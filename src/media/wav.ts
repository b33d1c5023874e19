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
