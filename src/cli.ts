#!/usr/bin/env node
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT } from './cli/exit-codes.js';
import { CHUNK_WORD_LIMITS, loadConfig } from './config/config.js';
import { CAPTION_POSITIONS, CAPTION_PRESETS, HEX_COLOUR } from './shared/caption-options.js';
import { DEFAULT_MUSIC_LEVELS, MUSIC_DUCKING_RANGE_DB, MUSIC_VOLUME_RANGE_DB } from './media/soundtrack.js';
import { isKnownLanguage, LANGUAGE_RULE } from './shared/language-codes.js';

/** The version in package.json (next to dist/ and src/). */
function packageVersion(): string {
  const file = fileURLToPath(new URL('../package.json', import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
};

const wordsBetween = (limits: { min: number; max: number }) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < limits.min || n > limits.max) {
    throw new InvalidArgumentError(`must be a whole number from ${limits.min} to ${limits.max}`);
  }
  return n;
};

const shareBetween = (min: number, max: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`must be a number from ${min} to ${max}`);
  return n;
};

const hexColour = (value: string): string => {
  if (!HEX_COLOUR.test(value)) throw new InvalidArgumentError('must be a colour written #RRGGBB, e.g. #FFD700');
  return value;
};

const language = (value: string): string => {
  if (!isKnownLanguage(value)) throw new InvalidArgumentError(LANGUAGE_RULE);
  return value;
};

// Each command loads the application when it runs: --help, --version and usage errors answer at once.
const program = new Command()
  .name('storyforge')
  .version(packageVersion(), '-V, --version', 'print the version')
  .description('Turns story files (.txt, .doc, .docx) into narrated, illustrated stories.')
  .showHelpAfterError()
  .exitOverride();

program
  .command('run')
  .description('Run a batch in this process (no HTTP): one folder per story under --out, plus batch.json')
  .argument('<files...>', 'story files or folders of them (.txt, .doc, .docx)')
  .option('-o, --out <dir>', 'output folder', 'out')
  .option('-l, --language <code>', 'language of every story (ISO 639-1); detected per story when absent', language)
  .option('--genre <genre>', 'story genre, e.g. fairy tale')
  .option('--tone <tone>', 'story tone, e.g. warm')
  .option('--length <length>', 'short, medium, long, or free text')
  .option('--audience <audience>', 'target audience, e.g. children')
  .option('--prompt <text>', 'custom instructions for the story writer')
  .option('--no-images', 'do not make images')
  .option('--no-audio', 'do not make narration')
  .option('--no-merge', 'keep the clips, do not merge them into narration.mp3')
  .option('--video', 'also render video.mp4 (images + narration, subtitles as a soft track)')
  .addOption(
    new Option('--video-preset <shape>', 'frame shape of the video: 16:9 (1920×1080) or 9:16 (1080×1920); implies --video').choices([
      '16:9',
      '9:16',
    ]),
  )
  .option('--burn-subtitles', 'draw the subtitles into the video too; implies --video')
  .addOption(
    new Option('--captions <preset>', 'look of burned captions: classic (sentences at the bottom) or shorts (1-4 words, spoken word highlighted); implies --burn-subtitles').choices([
      ...CAPTION_PRESETS,
    ]),
  )
  .option('--caption-size <share>', 'caption text height as a share of the frame height, 0.02-0.15', shareBetween(0.02, 0.15))
  .option('--caption-colour <#RRGGBB>', 'caption text colour', hexColour)
  .option('--caption-highlight <#RRGGBB>', 'colour of the spoken word (shorts)', hexColour)
  .option('--caption-outline-colour <#RRGGBB>', 'caption outline colour', hexColour)
  .option('--caption-outline <share>', 'outline width as a share of the text height, 0-0.3', shareBetween(0, 0.3))
  .addOption(new Option('--caption-position <where>', 'where captions sit').choices([...CAPTION_POSITIONS]))
  .option('--music <file>', 'background music for the video (MP3, WAV, OGG or M4A), looped or cut to its length and ducked under the voice; implies --video')
  .option('--music-volume <dB>', `music loudness against the narration where no one speaks, ${MUSIC_VOLUME_RANGE_DB.min} to ${MUSIC_VOLUME_RANGE_DB.max} dB (default ${DEFAULT_MUSIC_LEVELS.volumeDb})`, shareBetween(MUSIC_VOLUME_RANGE_DB.min, MUSIC_VOLUME_RANGE_DB.max))
  .option('--music-ducking <dB>', `how much further the music drops while the voice speaks, ${MUSIC_DUCKING_RANGE_DB.min} to ${MUSIC_DUCKING_RANGE_DB.max} dB (default ${DEFAULT_MUSIC_LEVELS.duckingDb})`, shareBetween(MUSIC_DUCKING_RANGE_DB.min, MUSIC_DUCKING_RANGE_DB.max))
  .option('--title-card', "open the video with the story's title over its first image (about 1.8 s); implies --video")
  .option('--speak-title', 'speak the title on the title card; implies --title-card')
  .option('--words-per-image <n>', 'words per image chunk (wordPerChunkImage)', wordsBetween(CHUNK_WORD_LIMITS.image))
  .option('--words-per-audio <n>', 'words per audio chunk (wordPerChunkAudio)', wordsBetween(CHUNK_WORD_LIMITS.audio))
  .option('--voice <name>', 'voice name for the speech synthesizer')
  .option('--writer <choice>', 'story writer, provider[:model], e.g. gemini:gemini-2.5-flash (default STORY_WRITER)')
  .option('--image-engine <choice>', 'image generator, provider[:model], e.g. comfyui (default IMAGE_GENERATOR)')
  .option('--speech <choice>', 'speech synthesizer, provider[:model][:voice], e.g. edge:vi-VN-HoaiMyNeural (default SPEECH_SYNTHESIZER)')
  .action(async (files: string[], options) => {
    const { runCommand } = await import('./cli/run.command.js');
    process.exitCode = await runCommand(files, options, loadConfig());
  });

program
  .command('retry')
  .description('Run the failed and cancelled stories of batches again from where they stopped, then export every story like run')
  .argument('<batchIds...>', 'batch ids (batch.json of a run lists them)')
  .option('-o, --out <dir>', 'output folder', 'out')
  .action(async (batchIds: string[], options: { out: string }) => {
    const { retryCommand } = await import('./cli/retry.command.js');
    process.exitCode = await retryCommand(batchIds, options, loadConfig());
  });

program
  .command('serve')
  .description('Serve the HTTP API (REST, Socket.IO, /docs) and run workers in this process')
  .addOption(new Option('-p, --port <port>', 'port to listen on (PORT)').argParser(positiveInt))
  .option('--no-workers', 'serve the API only; `storyforge worker` processes do the work (needs DATABASE_URL)')
  .action(async (options: { port?: number; workers: boolean }) => {
    const { serveCommand } = await import('./cli/serve.command.js');
    await serveCommand(loadConfig(), options.port, { workers: options.workers });
  });

const worker = program
  .command('worker')
  .description('Run queue workers only (needs DATABASE_URL: embedded PGlite serves one process); SIGUSR2 drains it')
  .action(async () => {
    const { workerCommand } = await import('./cli/serve.command.js');
    await workerCommand(loadConfig());
  });
worker
  .command('drain')
  .description('Ask worker processes to take no new job, finish what they run and exit')
  .option('--all', 'every live worker')
  .option('--host <host>', 'the workers of one host (its hostname)')
  .option('--id <id>', 'one worker, by the id GET /admin/workers shows')
  .action(async (options: { all?: boolean; host?: string; id?: string }) => {
    const given = [options.all, options.host, options.id].filter((value) => value !== undefined);
    if (given.length !== 1) throw new Error('worker drain: give exactly one of --all, --host, --id');
    const { workerDrainCommand } = await import('./cli/worker-drain.command.js');
    const target = options.id ? { workerId: options.id } : options.host ? { host: options.host } : { all: true as const };
    process.exitCode = await workerDrainCommand(loadConfig(), target);
  });

const user = program.command('user').description('Manage user accounts');
user
  .command('create')
  .description('Make a user who can log in to the HTTP API')
  .requiredOption('--email <email>', 'email address (the login)')
  .requiredOption('--password <password>', 'password, at least 8 characters')
  .option('--name <name>', 'display name')
  .option('--admin', 'may open the queue dashboard at /admin/queues')
  .action(async (options: { email: string; password: string; name?: string; admin?: boolean }) => {
    const { userCreateCommand } = await import('./cli/account.commands.js');
    await userCreateCommand(loadConfig(), options);
  });

const apiKey = program.command('apikey').description('Manage API keys');
apiKey
  .command('create')
  .description("Make an API key for a user's scripts; printed once on stdout")
  .requiredOption('--email <email>', 'email address of the user')
  .option('--name <name>', 'what the key is for', 'command line')
  .action(async (options: { email: string; name: string }) => {
    const { apiKeyCreateCommand } = await import('./cli/account.commands.js');
    await apiKeyCreateCommand(loadConfig(), options);
  });

try {
  if (process.argv.length <= 2) {
    // No command at all is a usage error (README: exit 2); `storyforge --help` prints to stdout and exits 0.
    program.outputHelp({ error: true });
    process.exitCode = EXIT.usage;
  } else {
    await program.parseAsync(process.argv);
  }
} catch (error) {
  const code = (error as { code?: string }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') {
    process.exitCode = EXIT.ok;
  } else if (code?.startsWith('commander.')) {
    process.exitCode = EXIT.usage;
  } else {
    // A command that could not start (missing program, unreachable service, data directory in
    // use) may have opened connections on its way: exit now rather than wait for them.
    process.stderr.write(`storyforge: ${(error as Error).message}\n`, () => process.exit(EXIT.usage));
  }
}
