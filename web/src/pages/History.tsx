import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { Bar, ErrorLine, Link, Status } from '../components/ui';
import { useI18n } from '../i18n';
import type { BatchListItem, Page } from '../types';

const LIMIT = 10;

/** The user's batches, newest first, ten to a page. */
export function HistoryPage() {
  const { t, lang } = useI18n();
  const [page, setPage] = useState(1);
  const [data, setData] = useState<Page<BatchListItem> | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api<Page<BatchListItem>>('GET', `/stories/batches?page=${page}&limit=${LIMIT}`).then(setData, setError);
  }, [page]);

  const pages = data ? Math.max(1, Math.ceil(data.total / data.limit)) : 1;
  return (
    <section class="history">
      <header class="page-head">
        <h1>{t('history.title')}</h1>
      </header>
      <ErrorLine error={error} />
      {!data && !error && <p class="muted">{t('common.loading')}</p>}
      {data && data.items.length === 0 && <p class="card muted">{t('history.empty')}</p>}
      {data && data.items.length > 0 && (
        <ul class="history-list">
          {data.items.map((batch) => (
            <li key={batch.id} class="card history-item">
              <div class="story-head">
                <div>
                  <h2>
                    <Link href={`/batch/${batch.id}`}>{new Date(batch.createdAt).toLocaleString(lang)}</Link>
                  </h2>
                  <p class="muted small">
                    {t('history.stories', { n: batch.totalFiles })}
                    {batch.files.length ? <span class="user-text"> · {batch.files.join(', ')}</span> : ''}
                  </p>
                </div>
                <Status status={batch.status} />
              </div>
              <Bar value={batch.percentage} label={t('batch.overall')} state={batch.status} />
            </li>
          ))}
        </ul>
      )}
      {data && pages > 1 && (
        <nav class="pager" aria-label={t('history.title')}>
          <button type="button" class="secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            ← {t('history.prev')}
          </button>
          <span>{t('history.page', { page, pages })}</span>
          <button type="button" class="secondary" disabled={page >= pages} onClick={() => setPage(page + 1)}>
            {t('history.next')} →
          </button>
        </nav>
      )}
    </section>
  );
}
