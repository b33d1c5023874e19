import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Duration (s), sample rate (Hz) and codec of a media file's first audio stream, from ffprobe. */
export async function probeAudio(file: string): Promise<{ duration: number; sampleRate: number; codec: string }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', file]);
  const info = JSON.parse(stdout) as { format: { duration: string }; streams: { codec_type: string; sample_rate?: string; codec_name: string }[] };
  const audio = info.streams.find((s) => s.codec_type === 'audio');
  if (!audio) throw new Error(`${file} has no audio stream`);
  return { duration: Number(info.format.duration), sampleRate: Number(audio.sample_rate), codec: audio.codec_name };
}

/** Width and height of an image, from ffprobe. */
export async function probeImage(file: string): Promise<{ width: number; height: number; codec: string }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file]);
  const stream = (JSON.parse(stdout) as { streams: { width: number; height: number; codec_name: string }[] }).streams[0]!;
  return { width: stream.width, height: stream.height, codec: stream.codec_name };
}

/** Frame size and codec of a media file's first video stream, from ffprobe. */
export async function probeVideo(file: string): Promise<{ width: number; height: number; codec: string }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file]);
  const streams = (JSON.parse(stdout) as { streams: { codec_type: string; width: number; height: number; codec_name: string }[] }).streams;
  const video = streams.find((s) => s.codec_type === 'video');
  if (!video) throw new Error(`${file} has no video stream`);
  return { width: video.width, height: video.height, codec: video.codec_name };
}

/** Integrated loudness (LUFS) and true peak (dBTP) measured by ffmpeg's ebur128 filter. */
export async function measureLoudness(file: string): Promise<{ lufs: number; truePeak: number }> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-af', 'ebur128=peak=true', '-f', 'null', '-'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const lufs = Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]);
  const truePeak = Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(summary)?.[1]);
  return { lufs, truePeak };
}
