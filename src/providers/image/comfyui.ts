import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { callProvider, describeCall, fetchChecked, type ProviderCallContext } from '../provider-call.js';
import { ProviderError } from '../provider-error.js';
import type { GeneratedImage, ImageGenerator, ImageRequest } from '../types.js';
import { type ImageSize, NEGATIVE_PROMPT } from './image-size.js';
import { buildImagePrompt, detectImageType } from './openai-compatible.js';

export interface ComfyUiOptions {
  /** ComfyUI server root, e.g. `http://127.0.0.1:8188`. */
  baseUrl: string;
  /** Bearer token for a ComfyUI behind an authenticating proxy; none by default. */
  apiKey?: string;
  /** Workflow in ComfyUI's API format (Save (API Format)), with placeholders; see {@link fillWorkflow}. */
  workflowFile: string;
  /** Checkpoint file name put in `{{model}}`, e.g. `sd_xl_base_1.0.safetensors`. */
  model: string;
  size: ImageSize;
  timeoutMs: number;
  /** First pause between two looks at `/history`, ms (doubles up to 2 s). Default 250. */
  pollMs?: number;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * The workflow with its placeholders filled: a string that is exactly `{{seed}}`, `{{width}}` or
 * `{{height}}` becomes that number; `{{prompt}}`, `{{negative_prompt}}` and `{{model}}` are
 * replaced inside any string. Other text is left as it is.
 */
export function fillWorkflow(workflow: Json, values: { prompt: string; negativePrompt: string; seed: number; width: number; height: number; model: string }): Json {
  const numbers: Record<string, number> = { '{{seed}}': values.seed, '{{width}}': values.width, '{{height}}': values.height };
  const fill = (value: Json): Json => {
    if (typeof value === 'string') {
      if (value in numbers) return numbers[value]!;
      return value
        .replaceAll('{{prompt}}', values.prompt)
        .replaceAll('{{negative_prompt}}', values.negativePrompt)
        .replaceAll('{{model}}', values.model);
    }
    if (Array.isArray(value)) return value.map(fill);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return fill(workflow);
}

interface HistoryEntry {
  outputs?: Record<string, { images?: { filename: string; subfolder?: string; type?: string }[] }>;
  status?: { status_str?: string; completed?: boolean; messages?: [string, Record<string, unknown>][] };
}

/**
 * Draws a picture with a ComfyUI server: fills the configured workflow's placeholders (the
 * story's seed, so pictures of one story look alike), queues it (`POST /prompt`), polls
 * `GET /history/{prompt_id}` until it has finished, then downloads the first output image
 * (`GET /view`). The whole exchange runs under one deadline (`timeoutMs`).
 *
 * Errors: a workflow ComfyUI refuses (400 `prompt_outputs_failed_validation`, e.g. an unknown
 * checkpoint) is permanent with its node errors; an execution error (out of memory …) transient;
 * a workflow file that cannot be read or is not JSON is permanent and names the file.
 */
export class ComfyUiImageGenerator implements ImageGenerator {
  readonly name = 'comfyui';
  private readonly context: ProviderCallContext;
  private workflow?: Json;

  constructor(private readonly options: ComfyUiOptions) {
    this.context = { provider: 'comfyui', capability: 'image generator', model: options.model, baseUrl: options.baseUrl, timeoutMs: options.timeoutMs };
  }

  async generate(request: ImageRequest): Promise<GeneratedImage> {
    const workflow = fillWorkflow(await this.loadWorkflow(), {
      prompt: buildImagePrompt(request),
      negativePrompt: NEGATIVE_PROMPT,
      seed: request.seed ?? Math.floor(Math.random() * 2 ** 31),
      width: this.options.size.width,
      height: this.options.size.height,
      model: this.options.model,
    });
    const base = this.options.baseUrl.replace(/\/+$/, '');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const data = await callProvider(this.context, request.signal, async (signal) => {
      const queued = (await (
        await fetchChecked(`${base}/prompt`, { method: 'POST', headers, body: JSON.stringify({ prompt: workflow, client_id: randomUUID() }), signal })
      ).json()) as { prompt_id?: string; node_errors?: Record<string, unknown> };
      if (!queued.prompt_id) throw new ProviderError(`${describeCall(this.context)}: the server did not queue the workflow (no prompt_id)`, 'transient', this.name);
      const image = await this.waitForImage(base, headers, queued.prompt_id, signal);
      const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder ?? '', type: image.type ?? 'output' });
      const response = await fetchChecked(`${base}/view?${query}`, { headers, signal });
      return new Uint8Array(await response.arrayBuffer());
    });
    const type = detectImageType(data);
    if (!type) throw new ProviderError(`${describeCall(this.context)}: the image is not PNG, JPEG or WebP`, 'permanent', this.name);
    return { data, ...type, placeholder: false, model: this.options.model };
  }

  private async waitForImage(base: string, headers: Record<string, string>, promptId: string, signal: AbortSignal) {
    for (let pause = this.options.pollMs ?? 250; ; pause = Math.min(pause * 2, 2000)) {
      const history = (await (await fetchChecked(`${base}/history/${encodeURIComponent(promptId)}`, { headers, signal })).json()) as Record<string, HistoryEntry>;
      const entry = history[promptId];
      if (entry?.status?.status_str === 'error') {
        const failure = entry.status.messages?.find(([kind]) => kind === 'execution_error')?.[1];
        const message = typeof failure?.exception_message === 'string' ? failure.exception_message.trim() : 'execution error';
        throw new ProviderError(`${describeCall(this.context)}: the workflow failed: ${message}`, 'transient', this.name);
      }
      if (entry?.status?.completed || (entry?.outputs && Object.keys(entry.outputs).length)) {
        const image = Object.values(entry.outputs ?? {}).flatMap((output) => output.images ?? [])[0];
        if (!image) throw new ProviderError(`${describeCall(this.context)}: the workflow finished without an output image (does it end in a SaveImage node?)`, 'permanent', this.name);
        return image;
      }
      await sleep(pause, undefined, { signal });
    }
  }

  private async loadWorkflow(): Promise<Json> {
    if (this.workflow) return this.workflow;
    let text: string;
    try {
      text = await readFile(this.options.workflowFile, 'utf8');
    } catch (error) {
      throw new ProviderError(`comfyui: cannot read the workflow file ${this.options.workflowFile} (${(error as Error).message}); set COMFYUI_WORKFLOW`, 'permanent', this.name);
    }
    try {
      this.workflow = JSON.parse(text) as Json;
    } catch (error) {
      throw new ProviderError(`comfyui: the workflow file ${this.options.workflowFile} is not JSON (${(error as Error).message})`, 'permanent', this.name);
    }
    return this.workflow;
  }
}
