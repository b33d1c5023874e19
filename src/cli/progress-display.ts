import cliProgress from 'cli-progress';
import type { StoryProgressInput } from '../dtos/batch-progress.js';
import { currentStep, storyFraction } from '../dtos/batch-progress.js';
import { isChunkStep, pipelineStep } from '../pipeline/catalog.js';
import { STEP_COLUMN } from '../repositories/story.repository.js';

/**
 * Shows one progress bar per story (its current step and share of work done) on a terminal,
 * or one line per step change when the output is not a terminal (CI logs, pipes).
 */
export class ProgressDisplay {
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly lastLine = new Map<string, string>();
  private readonly multibar?: cliProgress.MultiBar;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    if (stream.isTTY) {
      this.multibar = new cliProgress.MultiBar(
        {
          stream,
          format: ' {file} |{bar}| {percentage}% {step}',
          barsize: 24,
          hideCursor: true,
          clearOnComplete: false,
          autopadding: true,
        },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  update(inputs: StoryProgressInput[]): void {
    for (const input of inputs) {
      const { story } = input;
      const percentage = Math.floor(storyFraction(input) * 100);
      const step =
        story.status === 'completed'
          ? 'done'
          : story.status === 'failed'
            ? `failed at ${story.failedStep ?? 'a step'}`
            : this.multibar
              ? stepLabel(input)
              : currentStep(story);
      const file = input.fileName.length > 34 ? `${input.fileName.slice(0, 33)}…` : input.fileName.padEnd(34);
      if (this.multibar) {
        let bar = this.bars.get(story.id);
        if (!bar) {
          bar = this.multibar.create(100, 0, { file, step });
          this.bars.set(story.id, bar);
        }
        bar.update(percentage, { file, step });
      } else if (step) {
        // Between two steps there is no current step: keep the last line rather than print "waiting".
        const line = `${input.fileName}: ${step}`;
        if (this.lastLine.get(story.id) !== line) {
          this.lastLine.set(story.id, line);
          this.stream.write(`${line}\n`);
        }
      }
    }
  }

  stop(): void {
    this.multibar?.stop();
  }
}

/** What a story is doing, e.g. `images 3/9 + audio`, `merge`, `waiting`. */
function stepLabel(input: StoryProgressInput): string {
  const step = currentStep(input.story);
  if (!step) return 'waiting';
  const described = pipelineStep(step);
  if (!isChunkStep(described)) return step;
  const counts = input[described.chunks];
  // Another chunked step working side by side (images while audio is made) is named too.
  const next = currentStep({ ...input.story, [STEP_COLUMN[step]]: 'completed' });
  const parallel = next && next !== step && isChunkStep(pipelineStep(next)) ? ` + ${next}` : '';
  return `${step} ${counts.done}/${counts.total}${parallel}`;
}
