import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { currentUser, onAuthChange, resumeSession, signOut } from './api';
import { Link } from './components/ui';
import { I18n, initialLang, type Lang, saveLang, translator } from './i18n';
import { BatchPage } from './pages/Batch';
import { HistoryPage } from './pages/History';
import { LoginPage } from './pages/Login';
import { NewBatchPage } from './pages/NewBatch';
import { StoryPage } from './pages/Story';
import { navigate, usePath } from './router';
import './styles.css';

function Page({ path }: { path: string }) {
  const batch = /^\/batch\/([^/]+)$/.exec(path);
  if (batch) return <BatchPage id={batch[1]!} key={batch[1]} />;
  const story = /^\/story\/([^/]+)$/.exec(path);
  if (story) return <StoryPage id={story[1]!} key={story[1]} />;
  if (path === '/history') return <HistoryPage />;
  return <NewBatchPage />;
}

function App() {
  const path = usePath();
  const [lang, setLangState] = useState<Lang>(initialLang);
  const [user, setUser] = useState(currentUser);
  useEffect(() => onAuthChange(() => setUser(currentUser())), []);
  useEffect(() => {
    void resumeSession();
  }, []);
  const i18n = useMemo(
    () => ({
      lang,
      t: translator(lang),
      setLang: (next: Lang) => {
        saveLang(next);
        setLangState(next);
      },
    }),
    [lang],
  );
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = i18n.t('app.name');
  }, [lang, i18n]);

  const authPage = path === '/login' || path === '/register';
  useEffect(() => {
    if (!user && !authPage) navigate('/login', true);
    if (user && authPage) navigate('/', true);
  }, [user, authPage]);
  const { t } = i18n;

  return (
    <I18n.Provider value={i18n}>
      <a href="#main" class="skip">
        {t('nav.skip')}
      </a>
      <header class="topbar">
        <Link href="/" class="brand">
          <svg viewBox="0 0 32 32" aria-hidden="true" class="logo">
            <rect width="32" height="32" rx="7" />
            <path d="M9 8h10l4 4v12H9z" class="logo-page" />
          </svg>
          <span>{t('app.name')}</span>
        </Link>
        {user && (
          <nav class="nav" aria-label={t('app.name')}>
            <Link href="/" aria-current={path === '/' ? 'page' : undefined}>
              {t('nav.new')}
            </Link>
            <Link href="/history" aria-current={path === '/history' ? 'page' : undefined}>
              {t('nav.history')}
            </Link>
          </nav>
        )}
        <div class="topbar-end">
          <div class="lang-switch" role="group" aria-label={t('nav.language')}>
            {(['vi', 'en'] as const).map((code) => (
              <button type="button" key={code} aria-pressed={lang === code} onClick={() => i18n.setLang(code)} lang={code} id={`lang-${code}`}>
                {code === 'vi' ? 'VI' : 'EN'}
              </button>
            ))}
          </div>
          {user && (
            <button type="button" class="link" onClick={() => void signOut()} title={user.email}>
              {t('nav.logout')}
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {authPage ? <LoginPage mode={path === '/register' ? 'register' : 'login'} key={path} /> : user ? <Page path={path} /> : null}
      </main>
    </I18n.Provider>
  );
}

render(<App />, document.getElementById('app')!);
