import { fetchChecked } from './provider-call.js';

/**
 * The parts of Google's Generative Language REST API (v1beta) that the Gemini image and speech
 * providers call directly: `models/{model}:generateContent` and `models/{model}:predict`, with the
 * key in the `x-goog-api-key` header (never in the URL, so it cannot reach a log).
 */

/** One part of a generateContent answer: text, or bytes in `inlineData`. */
export interface GeminiPart {
  text?: string;
  inlineData?: { mimeType?: string; data?: string };
}

export interface GeminiAnswer {
  candidates?: { content?: { parts?: GeminiPart[] }; finishReason?: string }[];
  promptFeedback?: { blockReason?: string };
}

/**
 * POSTs `body` to `{baseUrl}/models/{model}:{method}` and returns the parsed JSON answer.
 * @throws APICallError for a non-2xx answer (see fetchChecked); SyntaxError for a body that is not JSON.
 */
export async function geminiCall<T>(
  options: { baseUrl: string; apiKey: string; model: string },
  method: 'generateContent' | 'predict',
  body: unknown,
  signal: AbortSignal,
): Promise<T> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/models/${encodeURIComponent(options.model)}:${method}`;
  const response = await fetchChecked(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': options.apiKey },
    body: JSON.stringify(body),
    signal,
  });
  return (await response.json()) as T;
}

/** Finish reasons with which Gemini declines to answer for content reasons (permanent). */
export const GEMINI_BLOCKED = /^(SAFETY|IMAGE_SAFETY|PROHIBITED_CONTENT|BLOCKLIST|SPII|RECITATION|IMAGE_PROHIBITED_CONTENT|OTHER)$/;

/**
 * The first `inlineData` part of the first candidate, or a reason there is none: `blocked` (the
 * prompt or the answer was stopped by a safety filter; what Gemini said) or `empty`.
 */
export function inlineDataOf(answer: GeminiAnswer): { mimeType: string; data: Uint8Array } | { blocked: string } | { empty: true } {
  if (answer.promptFeedback?.blockReason) return { blocked: `the prompt was blocked (${answer.promptFeedback.blockReason})` };
  const candidate = answer.candidates?.[0];
  const part = candidate?.content?.parts?.find((p) => p.inlineData?.data);
  if (part?.inlineData?.data) {
    return { mimeType: part.inlineData.mimeType ?? 'application/octet-stream', data: new Uint8Array(Buffer.from(part.inlineData.data, 'base64')) };
  }
  if (candidate?.finishReason && GEMINI_BLOCKED.test(candidate.finishReason)) {
    return { blocked: `the answer was stopped (finish reason ${candidate.finishReason})` };
  }
  return { empty: true };
}
