import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { Bar, ErrorLine, Link, Status } from '../components/ui';
import { useI18n } from '../i18n';
import type { MessageKey } from '../i18n/en';
import { useLive } from '../live';
import { STEP_NAMES, type StoryDetail } from '../types';

/** One story: text, pictures (Regenerate each), clips, narration, video with subtitles, downloads. */
export function StoryPage({ id }: { id: string }) {
  const { t } = useI18n();
  const [story, setStory] = useState<StoryDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [regenerating, setRegenerating] = useState<Set<string>>(new Set());
  // A new address for an image each time it is made again, so that the browser does not show the old one.
  const stamps = useRef(new Map<string, { status: string; stamp: number }>());

  const load = useCallback(() => {
    api<StoryDetail>('GET', `/stories/${id}`)
      .then((s) => {
        for (const image of s.images) {
          const seen = stamps.current.get(image.id);
          if (!seen) stamps.current.set(image.id, { status: image.status, stamp: 0 });
          else if (seen.status !== image.status) stamps.current.set(image.id, { status: image.status, stamp: Date.now() });
        }
        setRegenerating((set) => new Set([...set].filter((chunkId) => !['completed', 'failed'].includes(s.images.find((i) => i.id === chunkId)?.status ?? 'completed'))));
        setStory(s);
        setError(null);
      })
      .catch(setError);
  }, [id]);
  useEffect(load, [load]);
  const connected = useLive({ storyIds: [id] }, load);

  const regenerate = async (chunkId: string) => {
    setRegenerating((set) => new Set(set).add(chunkId));
    try {
      await api('POST', `/images/chunks/${chunkId}/regenerate`, {});
      const seen = stamps.current.get(chunkId);
      if (seen) seen.status = 'pending';
      load();
    } catch (e) {
      setError(e);
      setRegenerating((set) => new Set([...set].filter((x) => x !== chunkId)));
    }
  };

  if (!story) return error ? <ErrorLine error={error} /> : <p class="muted">{t('common.loading')}</p>;
  const title = story.title || t('story.untitled');
  const steps = STEP_NAMES.filter((step) => story.steps[step] !== 'skipped');
  const running = !['completed', 'failed', 'cancelled'].includes(story.status);
  const downloads: [MessageKey, string | null | undefined, string][] = [
    ['story.dlNarration', story.narrationUrl, 'dl-narration'],
    ['story.dlVideo', story.videoUrl, 'dl-video'],
    ['story.dlSoundtrack', story.soundtrackUrl, 'dl-soundtrack'],
    ['story.dlThumbnail', story.thumbnailUrl, 'dl-thumbnail'],
    ['story.dlSrt', story.subtitlesSrtUrl, 'dl-srt'],
    ['story.dlVtt', story.subtitlesVttUrl, 'dl-vtt'],
    ['story.dlImages', story.imagesZipUrl, 'dl-images'],
    ['story.dlPackage', story.packageUrl ?? `/stories/${story.id}/package`, 'dl-package'],
  ];

  return (
    <article class="story-page" data-status={story.status}>
      <header class="page-head row">
        <div>
          {story.batchId && (
            <p class="crumb">
              <Link href={`/batch/${story.batchId}`}>← {t('story.batch')}</Link>
            </p>
          )}
          <h1 id="story-title">
            <span class="user-text">{title}</span> <Status status={story.status} />
          </h1>
          {running && <span class={`live ${connected ? 'on' : 'off'}`}>{connected ? t('batch.live') : t('common.offline')}</span>}
        </div>
        {(story.status === 'failed' || story.status === 'cancelled') && (
          <button type="button" class="secondary" onClick={() => api('POST', `/stories/${id}/retry`, {}).then(load, setError)}>
            {t('story.retry')}
          </button>
        )}
      </header>
      <ErrorLine error={error} />
      {story.error && (
        <p class="failure" role="alert">
          {t('batch.failedAt', { step: t(`step.${story.failedStep ?? 'story'}` as MessageKey), error: story.error })}
        </p>
      )}
      {running && (
        <div class="card step-bars">
          {steps.map((step) => {
            const counts = step === 'images' ? story.progress.images : step === 'audio' ? story.progress.audio : null;
            const value = story.steps[step] === 'completed' ? 100 : counts?.total ? (100 * counts.done) / counts.total : 0;
            return <Bar key={step} value={value} label={t(`step.${step}` as MessageKey)} state={story.steps[step]} />;
          })}
        </div>
      )}

      <div class="story-layout">
        <div class="story-media">
          {story.videoUrl && (
            <section class="card">
              <h2>{t('story.video')}</h2>
              <video controls preload="metadata" src={story.videoUrl} poster={story.thumbnailUrl ?? undefined} class="video" id="video" crossOrigin="use-credentials">
                {story.subtitlesVttUrl && (
                  <track
                    kind="subtitles"
                    src={story.subtitlesVttUrl}
                    srcLang={story.language ?? 'und'}
                    label={t('story.subtitles')}
                    default
                    onLoad={(event) => shiftCues((event.currentTarget as HTMLTrackElement).track, (story.metadata?.video?.introMs ?? 0) / 1000)}
                  />
                )}
              </video>
            </section>
          )}
          <section class="card">
            <h2>{t('story.narration')}</h2>
            {story.narrationUrl ? (
              <audio controls preload="metadata" src={story.narrationUrl} id="narration" class="narration" />
            ) : (
              <p class="muted">{t('story.notYet')}</p>
            )}
          </section>
          <section class="card">
            <h2>{t('story.downloads')}</h2>
            <ul class="downloads">
              {downloads.map(([label, url, domId]) => (
                <li key={domId}>
                  {url ? (
                    <a href={url} download id={domId} class="button secondary">
                      ↓ {t(label)}
                    </a>
                  ) : (
                    <span class="button disabled" aria-disabled="true">
                      {t(label)} · {t('story.notYet')}
                    </span>
                  )}
                </li>
              ))}
            </ul>
          </section>
        </div>

        <section class="card story-text">
          <h2>{t('story.text')}</h2>
          <div class="prose user-text">
            {(story.content ?? story.originalContent).split(/\n{2,}/).map((para, i) => (
              <p key={i}>{para}</p>
            ))}
          </div>
        </section>
      </div>

      {story.images.length > 0 && (
        <section class="card">
          <h2>{t('story.pictures')}</h2>
          <ol class="gallery">
            {story.images.map((image) => {
              const stamp = stamps.current.get(image.id)?.stamp ?? 0;
              const busy = regenerating.has(image.id) || image.status === 'pending' || image.status === 'running';
              return (
                <li key={image.id} class="picture" data-index={image.index} data-status={image.status}>
                  <figure>
                    {image.url && image.status === 'completed' ? (
                      <img src={stamp ? `${image.url}?v=${stamp}` : image.url} alt={t('story.picture', { n: image.index + 1 })} loading="lazy" />
                    ) : (
                      <div class="img-wait">{busy ? t('story.regenerating') : t('story.notYet')}</div>
                    )}
                    <figcaption>
                      <span class="muted small">
                        {t('story.picture', { n: image.index + 1 })}
                        {image.placeholder ? ` · ${t('story.placeholder')}` : ''}
                      </span>
                      <span class="caption-text user-text">{image.text}</span>
                    </figcaption>
                  </figure>
                  <button type="button" class="secondary small regen" disabled={busy} onClick={() => regenerate(image.id)}>
                    ↻ {busy ? t('story.regenerating') : t('story.regenerate')}
                  </button>
                </li>
              );
            })}
          </ol>
        </section>
      )}

      {story.audio.length > 0 && (
        <section class="card">
          <h2>{t('story.clips')}</h2>
          <ol class="clips">
            {story.audio.map((clip) => (
              <li key={clip.id}>
                <span class="clip-label">{t('story.clip', { n: clip.index + 1 })}</span>
                <span class="clip-text user-text">{clip.text}</span>
                {clip.url && clip.status === 'completed' ? (
                  <audio controls preload="none" src={clip.url} aria-label={t('story.clip', { n: clip.index + 1 })} />
                ) : (
                  <span class="muted small">{t('story.notYet')}</span>
                )}
              </li>
            ))}
          </ol>
        </section>
      )}
    </article>
  );
}

/** The subtitles are timed on the narration; in a video with a title card they start `seconds` later. */
function shiftCues(track: TextTrack, seconds: number): void {
  if (!seconds || !track.cues) return;
  for (const cue of Array.from(track.cues)) {
    // The end first, so a cue never ends before it starts.
    cue.endTime += seconds;
    cue.startTime += seconds;
  }
}
