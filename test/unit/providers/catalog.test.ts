import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { pcmToWav } from '../../../src/media/wav.js';
import { formatChoice, parseChoice } from '../../../src/shared/provider-names.js';
import { fillWorkflow } from '../../../src/providers/image/comfyui.js';
import { bundledVoiceIds } from '../../../src/providers/registry.js';
import { parseEspeakVoices, voiceSpeaks } from '../../../src/providers/voices.js';

describe('provider choices', () => {
  it('reads provider:model for writers and images, provider:model:voice for speech', () => {
    expect(parseChoice('writer', 'gemini:gemini-2.5-flash')).toEqual({ provider: 'gemini', model: 'gemini-2.5-flash' });
    expect(parseChoice('images', 'comfyui')).toEqual({ provider: 'comfyui', model: undefined });
    expect(parseChoice('speech', 'edge:vi-VN-HoaiMyNeural', bundledVoiceIds)).toEqual({ provider: 'edge', voice: 'vi-VN-HoaiMyNeural' });
    expect(parseChoice('speech', 'gemini:Kore', bundledVoiceIds)).toEqual({ provider: 'gemini', voice: 'Kore' });
    expect(parseChoice('speech', 'gemini:gemini-2.5-pro-preview-tts:Puck', bundledVoiceIds)).toEqual({
      provider: 'gemini',
      model: 'gemini-2.5-pro-preview-tts',
      voice: 'Puck',
    });
    expect(parseChoice('writer', 'openai-compatible:qwen2.5:7b')).toEqual({ provider: 'openai-compatible', model: 'qwen2.5:7b' });
    expect(parseChoice('speech', '  ')).toBeUndefined();
    expect(formatChoice({ provider: 'gemini', voice: 'Kore' })).toBe('gemini:Kore');
    expect(formatChoice({ provider: 'edge', voice: 'vi-VN-NamMinhNeural' })).toBe('edge:vi-VN-NamMinhNeural');
  });

  it('configuration refuses an unknown provider, a bad fallback and bad limits, and reads several keys', () => {
    expect(() => loadConfig({ SPEECH_SYNTHESIZER: 'azure' })).toThrow(/SPEECH_SYNTHESIZER: must be one of espeak-ng/);
    expect(() => loadConfig({ SPEECH_FALLBACK: 'edge,nope' })).toThrow(/SPEECH_FALLBACK/);
    expect(() => loadConfig({ PROVIDER_LIMITS: '{"gemini":{"rpm":0}}' })).toThrow(/PROVIDER_LIMITS/);
    expect(() => loadConfig({ PROVIDER_LIMITS: 'not json' })).toThrow(/must be JSON/);
    const config = loadConfig({ GEMINI_API_KEY: ' a , b ,', SPEECH_SYNTHESIZER: 'edge:vi-VN-HoaiMyNeural', PROVIDER_LIMITS: '{"speech.edge":{"maxConcurrent":2}}' });
    expect(config.providers.gemini.apiKeys).toEqual(['a', 'b']);
    expect(config.providers.limits['speech.edge']).toEqual({ maxConcurrent: 2 });
    expect(config.providers.comfyui.workflowFile).toMatch(/assets\/comfyui\/txt2img\.json$/);
  });
});

describe('voices', () => {
  it('parses espeak-ng --voices and matches languages', () => {
    const voices = parseEspeakVoices('Pty Language       Age/Gender VoiceName          File                 Other Languages\n 5  vi              --/M      Vietnamese_(Northern) aav/vi\n 2  en-us           --/F      English_(America)  gmw/en-US            (en 3)\n');
    expect(voices).toEqual([
      { provider: 'espeak-ng', id: 'vi', name: 'Vietnamese (Northern)', language: 'vi', gender: 'male' },
      { provider: 'espeak-ng', id: 'en-us', name: 'English (America)', language: 'en-us', gender: 'female' },
    ]);
    expect(voiceSpeaks('vi-VN', 'vi')).toBe(true);
    expect(voiceSpeaks('en-US', 'vi')).toBe(false);
    expect(voiceSpeaks('*', 'vi')).toBe(true);
    expect(voiceSpeaks('cmn', 'zh')).toBe(true);
  });
});

describe('media helpers', () => {
  it('wraps PCM in a WAV header with its real rate and refuses a cut frame', () => {
    const wav = Buffer.from(pcmToWav(new Uint8Array(480), 24_000));
    expect(wav.length).toBe(524);
    expect(wav.readUInt32LE(24)).toBe(24_000);
    expect(wav.readUInt32LE(28)).toBe(48_000);
    expect(() => pcmToWav(new Uint8Array(3), 24_000)).toThrow(RangeError);
  });

  it('fills ComfyUI placeholders: numbers where the value is the placeholder, text inside strings', () => {
    const filled = fillWorkflow(
      { a: { inputs: { seed: '{{seed}}', width: '{{width}}', text: 'style: {{prompt}}', ckpt: '{{model}}', keep: 7 } } },
      { prompt: 'a heron', negativePrompt: 'text', seed: 42, width: 1280, height: 720, model: 'm.safetensors' },
    );
    expect(filled).toEqual({ a: { inputs: { seed: 42, width: 1280, text: 'style: a heron', ckpt: 'm.safetensors', keep: 7 } } });
  });
});
