#!/usr/bin/env node
import 'reflect-metadata';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT, runCommand } from './cli/run.command.js';
import { serveCommand, workerCommand } from './cli/serve.command.js';
import { loadConfig } from './config/config.js';

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
};

const language = (value: string): string => {
  if (!/^[a-z]{2,3}$/.test(value)) throw new InvalidArgumentError('must be an ISO 639-1 code such as vi, en or fr');
  return value;
};

const program = new Command()
  .name('storyforge')
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
  .option('--words-per-image <n>', 'words per image chunk (wordPerChunkImage)', positiveInt)
  .option('--words-per-audio <n>', 'words per audio chunk (wordPerChunkAudio)', positiveInt)
  .option('--voice <name>', 'voice name for the speech synthesizer')
  .action(async (files: string[], options) => {
    process.exitCode = await runCommand(files, options, loadConfig());
  });

program
  .command('serve')
  .description('Serve the HTTP API and run workers in this process')
  .addOption(new Option('-p, --port <port>', 'port to listen on (PORT)').argParser(positiveInt))
  .action(async (options: { port?: number }) => {
    await serveCommand(loadConfig(), options.port);
  });

program
  .command('worker')
  .description('Run queue workers only (needs DATABASE_URL: embedded PGlite serves one process)')
  .action(async () => {
    await workerCommand(loadConfig());
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = (error as { code?: string }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') {
    process.exitCode = EXIT.ok;
  } else if (code?.startsWith('commander.')) {
    process.exitCode = EXIT.usage;
  } else {
    process.stderr.write(`storyforge: ${(error as Error).message}\n`);
    process.exitCode = EXIT.usage;
  }
}
