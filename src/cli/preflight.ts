import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AppConfig } from '../config/config.js';

const run = promisify(execFile);

/**
 * Checks that the media binaries the configured providers need are installed, before any work
 * starts. @throws Error saying which binary is missing and which Debian package provides it.
 */
export async function checkBinaries(config: AppConfig): Promise<void> {
  const needed: [string, string, string][] = [
    [config.binaries.ffmpeg, '-version', 'ffmpeg'],
    [config.binaries.ffprobe, '-version', 'ffmpeg'],
  ];
  const speech = [config.providers.speechSynthesizer, ...config.providers.fallback.speech];
  if (speech.some((spec) => spec.split(':')[0] === 'espeak-ng')) needed.push([config.binaries.espeakNg, '--version', 'espeak-ng']);
  const missing: string[] = [];
  for (const [binary, flag, pkg] of needed) {
    try {
      await run(binary, [flag], { timeout: 15_000 });
    } catch {
      missing.push(`${binary} (Debian/Ubuntu: sudo apt-get install ${pkg})`);
    }
  }
  if (missing.length) throw new Error(`Missing programs: ${missing.join('; ')}`);
}
