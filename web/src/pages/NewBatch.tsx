import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { ErrorLine, formatBytes } from '../components/ui';
import { useI18n } from '../i18n';
import type { MessageKey } from '../i18n/en';
import { navigate } from '../router';
import type { Providers, Upload, Voice } from '../types';

/** Limits of the API (UPLOAD_MAX_FILES, UPLOAD_MAX_BYTES defaults); the server checks them again. */
const MAX_FILES = 10;
const MAX_MB = 10;
const EXTENSIONS = /\.(txt|docx?)$/i;

interface FileEntry {
  key: number;
  name: string;
  size: number;
  state: 'uploading' | 'ready' | 'refused';
  upload?: Upload;
  reason?: string;
}

let nextKey = 1;

/** Words for a refusal: the page's own for the API's known codes, else the API's message. */
function refusalText(t: (key: MessageKey) => string, error: unknown): string {
  if (error instanceof ApiError) {
    const key = `refusal.${error.code}` as MessageKey;
    const text = t(key);
    return text === key ? error.message : text;
  }
  return error instanceof Error ? error.message : String(error);
}

/** New batch: drop files (each uploaded and checked at once), choose options, start. */
export function NewBatchPage() {
  const { t, lang } = useI18n();
  const [files, setFiles] = useState<FileEntry[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [starting, setStarting] = useState(false);
  const [providers, setProviders] = useState<Providers | null>(null);
  const [voices, setVoices] = useState<Voice[] | null>(null);
  const [video, setVideo] = useState(false);
  const [speech, setSpeech] = useState('');
  const [storyLang, setStoryLang] = useState('');
  const [voice, setVoice] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const preview = useRef<HTMLAudioElement>(null);

  useEffect(() => {
    api<Providers>('GET', '/providers')
      .then(setProviders)
      .catch(() => setProviders(null));
  }, []);

  useEffect(() => {
    const params = new URLSearchParams();
    if (speech) params.set('provider', speech);
    if (storyLang) params.set('language', storyLang);
    api<{ voices: Voice[] }>('GET', `/voices?${params}`)
      .then((answer) => setVoices(answer.voices))
      .catch(() => setVoices(null));
  }, [speech, storyLang]);

  const update = (key: number, patch: Partial<FileEntry>) => setFiles((list) => list.map((f) => (f.key === key ? { ...f, ...patch } : f)));

  const add = (picked: File[]) => {
    setNotice(null);
    let count = files.length;
    const entries: FileEntry[] = [];
    for (const file of picked) {
      if (count >= MAX_FILES) {
        setNotice(t('new.tooMany', { max: MAX_FILES, name: file.name }));
        break;
      }
      const entry: FileEntry = { key: nextKey++, name: file.name, size: file.size, state: 'uploading' };
      entries.push(entry);
      count++;
      if (!EXTENSIONS.test(file.name)) Object.assign(entry, { state: 'refused', reason: t('refusal.wrong-type') });
      else if (file.size === 0) Object.assign(entry, { state: 'refused', reason: t('refusal.empty-file') });
      else if (file.size > MAX_MB * 1024 * 1024) Object.assign(entry, { state: 'refused', reason: t('refusal.file-too-large') });
      else {
        const body = new FormData();
        body.append('file', file);
        api<Upload>('POST', '/file-upload/upload', body)
          .then((upload) => update(entry.key, { state: 'ready', upload }))
          .catch((e) => update(entry.key, { state: 'refused', reason: refusalText(t, e) }));
      }
    }
    setFiles((list) => [...list, ...entries]);
  };

  const ready = files.filter((f) => f.state === 'ready' && f.upload);

  const start = async (event: Event) => {
    event.preventDefault();
    if (!ready.length) return;
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '').trim() || undefined;
    const number = (name: string) => (text(name) ? Number(text(name)) : undefined);
    const style = { genre: text('genre'), tone: text('tone'), length: text('length'), targetAudience: text('audience') };
    const providerChoice = {
      writer: text('writer'),
      images: text('images'),
      speech: speech ? (voice ? `${speech}:${voice}` : speech) : undefined,
    };
    const body = {
      fileIds: ready.map((f) => f.upload!.id),
      style: Object.fromEntries(Object.entries(style).filter(([, v]) => v)),
      customPrompt: text('customPrompt'),
      language: storyLang || undefined,
      autoMode: {
        enabled: true,
        generateImages: form.get('generateImages') === 'on',
        generateAudio: form.get('generateAudio') === 'on',
        mergeAudio: form.get('mergeAudio') === 'on',
        wordPerChunkImage: number('wordPerChunkImage'),
        wordPerChunkAudio: number('wordPerChunkAudio'),
        customPromptImage: text('customPromptImage'),
        customPromptAudio: text('customPromptAudio'),
        ...(voice && !providers ? { audioVoice: voice } : {}),
        ...(video ? { renderVideo: true, videoPreset: text('videoPreset') ?? '16:9', burnSubtitles: form.get('burnSubtitles') === 'on' } : {}),
      },
      ...(providers && Object.values(providerChoice).some(Boolean)
        ? { providers: Object.fromEntries(Object.entries(providerChoice).filter(([, v]) => v)) }
        : {}),
    };
    setStarting(true);
    setError(null);
    try {
      const created = await api<{ batchId: string }>('POST', '/stories/batch-create', body);
      navigate(`/batch/${created.batchId}`);
    } catch (e) {
      setError(e);
      setStarting(false);
    }
  };

  const playPreview = () => {
    if (!preview.current || !voice) return;
    const params = new URLSearchParams({ provider: speech || (voices?.find((v) => v.id === voice)?.provider ?? ''), voice, text: t('new.previewText') });
    preview.current.src = `/voices/preview?${params}`;
    void preview.current.play().catch(() => undefined);
  };

  return (
    <form class="new-batch" onSubmit={start} lang={lang}>
      <header class="page-head">
        <h1>{t('new.title')}</h1>
        <p class="muted">{t('new.intro', { max: MAX_FILES })}</p>
      </header>

      <section class="card">
        <div
          class={`dropzone${dragging ? ' dragging' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            add([...(e.dataTransfer?.files ?? [])]);
          }}
        >
          <svg class="drop-icon" viewBox="0 0 24 24" aria-hidden="true">
            <path d="M12 16V4m0 0-4 4m4-4 4 4M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3" />
          </svg>
          <p class="drop-title">{t('new.drop')}</p>
          <p class="muted">
            {t('new.dropOr')}{' '}
            <button type="button" class="secondary" onClick={() => input.current?.click()}>
              {t('new.choose')}
            </button>
          </p>
          <p class="muted small">{t('new.dropHint', { mb: MAX_MB, max: MAX_FILES })}</p>
          <input
            ref={input}
            type="file"
            multiple
            accept=".txt,.doc,.docx"
            class="visually-hidden"
            id="file-input"
            tabIndex={-1}
            aria-label={t('new.choose')}
            onChange={(e) => {
              const el = e.currentTarget;
              add([...(el.files ?? [])]);
              el.value = '';
            }}
          />
        </div>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        {files.length > 0 && (
          <ul class="file-list" aria-label={t('new.files')}>
            {files.map((f) => (
              <li key={f.key} class={`file file-${f.state}`} data-state={f.state}>
                <div class="file-main">
                  <span class="file-name user-text">{f.name}</span>
                  <span class="muted small">
                    {formatBytes(f.size)}
                    {f.upload ? ` · ${t('common.words', { n: f.upload.wordCount.toLocaleString(lang) })} · ${f.upload.format}` : ''}
                  </span>
                  {f.reason && (
                    <span class="file-reason" role="alert">
                      {f.reason}
                    </span>
                  )}
                </div>
                <span class={`chip chip-${f.state}`}>
                  {f.state === 'uploading' ? t('new.uploading') : f.state === 'ready' ? t('new.ready') : t('new.refused')}
                </span>
                <button
                  type="button"
                  class="icon"
                  aria-label={`${t('common.remove')} ${f.name}`}
                  title={t('common.remove')}
                  onClick={() => setFiles((list) => list.filter((x) => x.key !== f.key))}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>

      <div class="options">
        <fieldset class="card">
          <legend>{t('new.style')}</legend>
          <div class="grid2">
            <label>
              {t('new.genre')}
              <input name="genre" maxLength={100} placeholder={t('new.genrePh')} />
            </label>
            <label>
              {t('new.tone')}
              <input name="tone" maxLength={100} placeholder={t('new.tonePh')} />
            </label>
            <label>
              {t('new.length')}
              <select name="length">
                <option value="">{t('new.lengthAsWritten')}</option>
                <option value="short">{t('new.lengthShort')}</option>
                <option value="medium">{t('new.lengthMedium')}</option>
                <option value="long">{t('new.lengthLong')}</option>
              </select>
            </label>
            <label>
              {t('new.audience')}
              <input name="audience" maxLength={100} placeholder={t('new.audiencePh')} />
            </label>
            <label class="span2">
              {t('new.languageStory')}
              <select name="language" value={storyLang} onChange={(e) => setStoryLang(e.currentTarget.value)}>
                <option value="">{t('new.languageAuto')}</option>
                <option value="vi">Tiếng Việt</option>
                <option value="en">English</option>
              </select>
            </label>
          </div>
        </fieldset>

        <fieldset class="card">
          <legend>{t('new.prompts')}</legend>
          <label>
            {t('new.promptStory')}
            <textarea name="customPrompt" rows={2} maxLength={4000} />
          </label>
          <label>
            {t('new.promptImage')}
            <input name="customPromptImage" maxLength={2000} placeholder={t('new.promptImagePh')} />
          </label>
          <label>
            {t('new.promptAudio')}
            <input name="customPromptAudio" maxLength={2000} placeholder={t('new.promptAudioPh')} />
          </label>
        </fieldset>

        {(providers || voices) && (
          <fieldset class="card" id="providers">
            <legend>{t('new.providers')}</legend>
            {providers && (
              <div class="grid2">
                {(
                  [
                    ['writer', 'new.writer', providers.writers],
                    ['images', 'new.imageProvider', providers.images],
                  ] as const
                ).map(([name, label, list]) => (
                  <label key={name}>
                    {t(label)}
                    <select name={name}>
                      <option value="">{t('new.default')}</option>
                      {list.flatMap((p) =>
                        (p.models?.length ? p.models : ['']).map((model) => (
                          <option key={`${p.name}:${model}`} value={model ? `${p.name}:${model}` : p.name} disabled={!p.configured}>
                            {model ? `${p.name} · ${model}` : p.name}
                            {p.configured ? '' : ` (${t('new.notConfigured')})`}
                          </option>
                        )),
                      )}
                    </select>
                  </label>
                ))}
                <label>
                  {t('new.speechProvider')}
                  <select name="speech" value={speech} onChange={(e) => setSpeech(e.currentTarget.value)}>
                    <option value="">{t('new.default')}</option>
                    {providers.speech.map((p) => (
                      <option key={p.name} value={p.name} disabled={!p.configured}>
                        {p.name}
                        {p.configured ? '' : ` (${t('new.notConfigured')})`}
                      </option>
                    ))}
                  </select>
                </label>
              </div>
            )}
            {voices && (
              <div class="voice-row">
                <label>
                  {t('new.voice')}
                  <select name="voice" value={voice} onChange={(e) => setVoice(e.currentTarget.value)}>
                    <option value="">{t('new.voiceDefault')}</option>
                    {voices.map((v) => (
                      <option key={`${v.provider}:${v.id}`} value={v.id}>
                        {v.name} · {v.language}
                        {v.gender ? ` · ${v.gender}` : ''}
                      </option>
                    ))}
                  </select>
                </label>
                <button type="button" class="secondary" disabled={!voice} onClick={playPreview}>
                  ▶ {t('new.preview')}
                </button>
                <audio ref={preview} preload="none" />
              </div>
            )}
          </fieldset>
        )}

        <fieldset class="card">
          <legend>{t('new.steps')}</legend>
          <label class="check">
            <input type="checkbox" name="generateImages" defaultChecked />
            {t('new.images')}
          </label>
          <label class="check">
            <input type="checkbox" name="generateAudio" defaultChecked />
            {t('new.audio')}
          </label>
          <label class="check">
            <input type="checkbox" name="mergeAudio" defaultChecked />
            {t('new.merge')}
          </label>
          <div class="grid2">
            <label>
              {t('new.wordsPerImage')}
              <input name="wordPerChunkImage" type="number" min={10} max={2000} placeholder="120" inputMode="numeric" />
            </label>
            <label>
              {t('new.wordsPerAudio')}
              <input name="wordPerChunkAudio" type="number" min={5} max={2000} placeholder="60" inputMode="numeric" />
            </label>
          </div>
        </fieldset>

        <fieldset class="card">
          <legend>{t('new.video')}</legend>
          <label class="check">
            <input type="checkbox" name="renderVideo" checked={video} onChange={(e) => setVideo(e.currentTarget.checked)} />
            {t('new.videoOn')}
          </label>
          <div class="radio-row" role="radiogroup" aria-label={t('new.video')}>
            <label class="check">
              <input type="radio" name="videoPreset" value="16:9" defaultChecked disabled={!video} />
              {t('new.videoLandscape')}
            </label>
            <label class="check">
              <input type="radio" name="videoPreset" value="9:16" disabled={!video} />
              {t('new.videoPortrait')}
            </label>
          </div>
          <label class="check">
            <input type="checkbox" name="burnSubtitles" disabled={!video} />
            {t('new.burn')}
          </label>
        </fieldset>
      </div>

      <div class="start-bar">
        <ErrorLine error={error} />
        {!ready.length && <p class="muted">{t('new.noFiles')}</p>}
        <button type="submit" class="primary big" disabled={!ready.length || starting || files.some((f) => f.state === 'uploading')}>
          {starting ? t('new.starting') : ready.length === 0 ? t('new.startNone') : ready.length === 1 ? t('new.startOne') : t('new.start', { n: ready.length })}
        </button>
      </div>
    </form>
  );
}
