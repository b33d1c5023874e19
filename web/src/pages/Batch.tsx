import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { Bar, ErrorLine, Link, Status } from '../components/ui';
import { useI18n } from '../i18n';
import type { MessageKey } from '../i18n/en';
import { useLive } from '../live';
import { STEP_NAMES, type BatchStatus, type BatchStory, type StepName } from '../types';

const ENDED = ['completed', 'partially_completed', 'failed', 'cancelled'];

/** Percentage of one step of a story: chunk counts for images and audio, else done or not. */
function stepPercent(story: BatchStory, step: StepName): number {
  const state = story.steps[step];
  if (state === 'completed') return 100;
  if (step === 'images' && story.images.total) return (100 * story.images.done) / story.images.total;
  if (step === 'audio' && story.audio.total) return (100 * story.audio.done) / story.audio.total;
  return 0;
}

/** One batch: a row per story with a bar per step, live; Cancel, Retry, Download all. */
export function BatchPage({ id }: { id: string }) {
  const { t, lang } = useI18n();
  const [batch, setBatch] = useState<BatchStatus | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    api<BatchStatus>('GET', `/stories/batch/${id}/status`)
      .then((b) => {
        setBatch(b);
        setError(null);
      })
      .catch(setError);
  }, [id]);
  useEffect(load, [load]);
  const connected = useLive({ batchId: id, storyIds: batch?.stories.map((s) => s.storyId) ?? [] }, load);

  const act = async (path: string) => {
    setBusy(true);
    try {
      await api('POST', path, {});
      load();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (!batch) return error ? <ErrorLine error={error} /> : <p class="muted">{t('common.loading')}</p>;
  const ended = ENDED.includes(batch.status);
  const failed = batch.stories.some((s) => s.status === 'failed' || s.status === 'cancelled');

  return (
    <section class="batch-page" data-status={batch.status}>
      <header class="page-head row">
        <div>
          <h1>
            {t('batch.title')} <Status status={batch.status} />
          </h1>
          <p class="muted">
            {t('batch.created', { date: new Date(batch.createdAt).toLocaleString(lang) })} · {t('history.stories', { n: batch.totalFiles })}
            {!ended && <span class={`live ${connected ? 'on' : 'off'}`}>{connected ? t('batch.live') : t('common.offline')}</span>}
          </p>
        </div>
        <div class="actions">
          {!ended && (
            <button type="button" class="danger" disabled={busy} onClick={() => confirm(t('batch.confirmCancel')) && act(`/stories/batch/${id}/cancel`)}>
              {t('batch.cancel')}
            </button>
          )}
          {ended && failed && (
            <button type="button" class="secondary" disabled={busy} onClick={() => act(`/stories/batch/${id}/retry`)}>
              {t('batch.retry')}
            </button>
          )}
          <a class="button primary" href={`/stories/batch/${id}/package`} download id="download-all">
            {t('batch.downloadAll')}
          </a>
        </div>
      </header>
      <ErrorLine error={error} />
      <div class="card overall">
        <Bar value={batch.progress.percentage} label={t('batch.overall')} state={ended ? batch.status : 'running'} id="batch-progress" />
      </div>
      <h2 class="visually-hidden">{t('batch.stories')}</h2>
      <ul class="stories">
        {batch.stories.map((story) => {
          const result = batch.results.find((r) => r.storyId === story.storyId);
          const steps = STEP_NAMES.filter((step) => story.steps[step] !== 'skipped');
          return (
            <li key={story.storyId} class="card story-row" data-story={story.storyId} data-status={story.status}>
              <div class="story-head">
                <div>
                  <h3>
                    <Link href={`/story/${story.storyId}`}>
                      <span class="user-text">{story.title || story.file}</span>
                    </Link>
                  </h3>
                  <p class="muted small user-text">{story.file}</p>
                </div>
                <Status status={story.status} />
              </div>
              <div class="step-bars">
                {steps.map((step) => (
                  <Bar
                    key={step}
                    value={stepPercent(story, step)}
                    label={t(`step.${step}` as MessageKey)}
                    state={story.steps[step]}
                  />
                ))}
              </div>
              {story.status === 'failed' && (
                <div class="failure" role="alert">
                  <p>{t('batch.failedAt', { step: t(`step.${(result?.failedStep ?? 'story') as StepName}` as MessageKey), error: result?.error ?? '' })}</p>
                  <button type="button" class="secondary" disabled={busy} onClick={() => act(`/stories/${story.storyId}/retry`)}>
                    {t('common.retry')}
                  </button>
                </div>
              )}
              <div class="row-foot">
                {story.narrationUrl && <audio controls preload="none" src={story.narrationUrl} aria-label={t('story.narration')} />}
                <Link href={`/story/${story.storyId}`} class="button secondary">
                  {t('batch.open')} →
                </Link>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
