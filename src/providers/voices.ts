import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** One voice as `GET /voices` lists it. `language` is a BCP 47 tag (`vi-VN`) or `*` (speaks many). */
export interface VoiceInfo {
  provider: string;
  id: string;
  name: string;
  language: string;
  gender?: 'female' | 'male';
}

const edge = (id: string, gender: 'female' | 'male'): VoiceInfo => ({
  provider: 'edge',
  id,
  name: id.replace(/^[a-z]{2,3}-[A-Z]{2}-/, '').replace(/(Multilingual)?Neural$/, ''),
  language: /^[a-z]{2,3}-[A-Z]{2}/.exec(id)![0],
  gender,
});

/**
 * Microsoft Edge read-aloud neural voices (bundled: the service's list needs the network). The
 * voices creators use most, two or more per language; any other `xx-YY-NameNeural` voice of the
 * service works too when named in full, but only these are offered and checked.
 */
export const EDGE_VOICES: readonly VoiceInfo[] = [
  edge('vi-VN-HoaiMyNeural', 'female'), edge('vi-VN-NamMinhNeural', 'male'),
  edge('en-US-AriaNeural', 'female'), edge('en-US-JennyNeural', 'female'), edge('en-US-GuyNeural', 'male'),
  edge('en-US-AndrewNeural', 'male'), edge('en-US-EmmaNeural', 'female'), edge('en-US-BrianNeural', 'male'),
  edge('en-GB-SoniaNeural', 'female'), edge('en-GB-RyanNeural', 'male'), edge('en-AU-NatashaNeural', 'female'),
  edge('fr-FR-DeniseNeural', 'female'), edge('fr-FR-HenriNeural', 'male'), edge('de-DE-KatjaNeural', 'female'),
  edge('de-DE-ConradNeural', 'male'), edge('es-ES-ElviraNeural', 'female'), edge('es-ES-AlvaroNeural', 'male'),
  edge('es-MX-DaliaNeural', 'female'), edge('it-IT-ElsaNeural', 'female'), edge('it-IT-DiegoNeural', 'male'),
  edge('pt-BR-FranciscaNeural', 'female'), edge('pt-BR-AntonioNeural', 'male'), edge('ja-JP-NanamiNeural', 'female'),
  edge('ja-JP-KeitaNeural', 'male'), edge('ko-KR-SunHiNeural', 'female'), edge('ko-KR-InJoonNeural', 'male'),
  edge('zh-CN-XiaoxiaoNeural', 'female'), edge('zh-CN-YunxiNeural', 'male'), edge('th-TH-PremwadeeNeural', 'female'),
  edge('th-TH-NiwatNeural', 'male'), edge('id-ID-GadisNeural', 'female'), edge('id-ID-ArdiNeural', 'male'),
  edge('ru-RU-SvetlanaNeural', 'female'), edge('ru-RU-DmitryNeural', 'male'), edge('hi-IN-SwaraNeural', 'female'),
  edge('hi-IN-MadhurNeural', 'male'),
];

const many = (provider: string, id: string, name: string, gender?: 'female' | 'male'): VoiceInfo => ({ provider, id, name, language: '*', gender });

/** ElevenLabs premade voices (ids from its voice library); multilingual models speak every supported language with them. */
export const ELEVENLABS_VOICES: readonly VoiceInfo[] = [
  many('elevenlabs', '21m00Tcm4TlvDq8ikWAM', 'Rachel', 'female'),
  many('elevenlabs', 'EXAVITQu4vr4xnSDxMaL', 'Sarah', 'female'),
  many('elevenlabs', 'XrExE9yKIg1WjnnlVkGX', 'Matilda', 'female'),
  many('elevenlabs', 'pFZP5JQG7iQjIQuC4Bku', 'Lily', 'female'),
  many('elevenlabs', 'pNInz6obpgDQGcFmaJgB', 'Adam', 'male'),
  many('elevenlabs', 'ErXwobaYiN019PkySvjV', 'Antoni', 'male'),
  many('elevenlabs', 'TxGEqnHWrfWFTfGW9XjX', 'Josh', 'male'),
  many('elevenlabs', 'JBFqnCBsd6RMkjVDRZzb', 'George', 'male'),
];

/** Gemini TTS prebuilt voices; they speak every language Gemini TTS supports. */
export const GEMINI_VOICES: readonly VoiceInfo[] = [
  ['Zephyr', 'female'], ['Puck', 'male'], ['Charon', 'male'], ['Kore', 'female'], ['Fenrir', 'male'], ['Leda', 'female'],
  ['Orus', 'male'], ['Aoede', 'female'], ['Callirrhoe', 'female'], ['Autonoe', 'female'], ['Enceladus', 'male'],
  ['Iapetus', 'male'], ['Umbriel', 'male'], ['Algieba', 'male'], ['Despina', 'female'], ['Erinome', 'female'],
  ['Algenib', 'male'], ['Rasalgethi', 'male'], ['Laomedeia', 'female'], ['Achernar', 'female'], ['Alnilam', 'male'],
  ['Schedar', 'male'], ['Gacrux', 'female'], ['Pulcherrima', 'female'], ['Achird', 'male'], ['Zubenelgenubi', 'male'],
  ['Vindemiatrix', 'female'], ['Sadachbia', 'male'], ['Sadaltager', 'male'], ['Sulafat', 'female'],
].map(([id, gender]) => many('gemini', id!, id!, gender as 'female' | 'male'));

/** OpenAI speech voices (also offered by Kokoro-FastAPI's OpenAI mapping); multilingual. */
export const OPENAI_VOICES: readonly VoiceInfo[] = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'nova', 'onyx', 'sage', 'shimmer', 'verse'].map((id) =>
  many('openai-compatible', id, id),
);

const run = promisify(execFile);
let espeakCache: Promise<VoiceInfo[]> | undefined;

/**
 * espeak-ng's voices from `espeak-ng --voices` (read once per process): id = the language column
 * (what `-v` takes), name = VoiceName with `_` as spaces. Empty when espeak-ng cannot run.
 */
export function espeakVoices(binary: string): Promise<VoiceInfo[]> {
  espeakCache ??= run(binary, ['--voices'], { timeout: 10_000 })
    .then(({ stdout }) => parseEspeakVoices(stdout))
    .catch(() => {
      espeakCache = undefined;
      return [];
    });
  return espeakCache;
}

/** Parses `espeak-ng --voices` output (header line, then `Pty Language Age/Gender VoiceName File …`). */
export function parseEspeakVoices(output: string): VoiceInfo[] {
  return output
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 4)
    .map(([, language, ageGender, name]) => ({
      provider: 'espeak-ng',
      id: language!,
      name: name!.replace(/_/g, ' '),
      language: language!,
      gender: ageGender!.endsWith('/F') ? ('female' as const) : ageGender!.endsWith('/M') ? ('male' as const) : undefined,
    }));
}

/**
 * True when a voice of `language` (`*`, a tag such as `vi-VN` or `en-us`) speaks the ISO 639-1
 * code `code` (`vi`); espeak-ng's `cmn` counts as `zh`, `nb` as `no`.
 */
export function voiceSpeaks(language: string, code: string): boolean {
  if (language === '*') return true;
  const primary = language.toLowerCase().split(/[-_]/)[0]!;
  const aliases: Record<string, string> = { cmn: 'zh', yue: 'zh', nb: 'no' };
  return primary === code.toLowerCase() || aliases[primary] === code.toLowerCase();
}
