import cliProgress from 'cli-progress';
import type { StoryProgressInput } from '../dtos/batch-progress.js';
import { currentStep, storyFraction } from '../dtos/batch-progress.js';
import { isChunkStep, pipelineStep } from '../pipeline/catalog.js';
import { STEP_COLUMN } from '../repositories/story.repository.js';

/** Longest silence for a story still working when the output is not a terminal, ms. */
export const QUIET_LINE_INTERVAL_MS = 30_000;

/**
 * Shows one progress bar per story (its current step and share of work done) on a terminal.
 * When the output is not a terminal (CI logs, pipes) it writes a line per story when its step
 * changes, e.g. `story.txt: images 3/9 + audio (41%)`, and again every
 * {@link QUIET_LINE_INTERVAL_MS} while the step goes on (`video (88%, 120 s on it)`), so that a
 * long render never looks like a hang.
 */
export class ProgressDisplay {
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  /** Per story: the step of its last line, when that line was written and when the step began (ms). */
  private readonly lastLine = new Map<string, { step: string; at: number; since: number }>();
  private readonly multibar?: cliProgress.MultiBar;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly now: () => number = Date.now,
  ) {
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
        this.writeLine(story.id, input, step, percentage);
      }
    }
  }

  /** Writes a story's line when its step changed or it has been quiet for QUIET_LINE_INTERVAL_MS. */
  private writeLine(storyId: string, input: StoryProgressInput, step: string, percentage: number): void {
    const now = this.now();
    const last = this.lastLine.get(storyId);
    const changed = last?.step !== step;
    if (!changed && now - last.at < QUIET_LINE_INTERVAL_MS) return;
    const since = changed ? now : last.since;
    this.lastLine.set(storyId, { step, at: now, since });
    const ended = input.story.status === 'completed' || input.story.status === 'failed';
    const label = ended ? step : stepLabel(input);
    const detail = ended ? '' : changed ? ` (${percentage}%)` : ` (${percentage}%, ${Math.round((now - since) / 1000)} s on it)`;
    this.stream.write(`${input.fileName}: ${label}${detail}\n`);
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
