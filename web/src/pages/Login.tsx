import { useState } from 'preact/hooks';
import { signIn } from '../api';
import { ErrorLine, Link } from '../components/ui';
import { useI18n } from '../i18n';
import { navigate } from '../router';

/** Log in or create an account. */
export function LoginPage({ mode }: { mode: 'login' | 'register' }) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      const displayName = String(form.get('displayName') ?? '').trim();
      await signIn(mode, {
        email: String(form.get('email')),
        password: String(form.get('password')),
        ...(mode === 'register' && displayName ? { displayName } : {}),
      });
      navigate('/', true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="auth card">
      <h1>{mode === 'login' ? t('auth.login') : t('auth.register')}</h1>
      <p class="muted">{t('auth.welcome')}</p>
      <form onSubmit={submit} class="stack">
        {mode === 'register' && (
          <label>
            {t('auth.name')}
            <input name="displayName" autoComplete="name" maxLength={100} />
          </label>
        )}
        <label>
          {t('auth.email')}
          <input name="email" type="email" required autoComplete="email" />
        </label>
        <label>
          {t('auth.password')}
          <input name="password" type="password" required minLength={8} autoComplete={mode === 'login' ? 'current-password' : 'new-password'} />
          {mode === 'register' && <small class="muted">{t('auth.passwordHint')}</small>}
        </label>
        <ErrorLine error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {mode === 'login' ? t('auth.login') : t('auth.register')}
        </button>
      </form>
      <p class="switch">
        {mode === 'login' ? t('auth.noAccount') : t('auth.haveAccount')}{' '}
        <Link href={mode === 'login' ? '/register' : '/login'}>{mode === 'login' ? t('auth.register') : t('auth.login')}</Link>
      </p>
    </section>
  );
}
