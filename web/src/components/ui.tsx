import type { ComponentChildren } from 'preact';
import { useI18n } from '../i18n';
import type { MessageKey } from '../i18n/en';
import { linkClick } from '../router';

/** A labelled progress bar (0–100). */
export function Bar(props: { value: number; label: string; state?: string; id?: string }) {
  const value = Math.max(0, Math.min(100, Math.round(props.value)));
  return (
    <div class={`bar bar-${props.state ?? 'running'}`}>
      <div class="bar-head">
        <span>{props.label}</span>
        <span class="bar-value">{value}%</span>
      </div>
      <progress max={100} value={value} aria-label={props.label} data-state={props.state} id={props.id}>
        {value}%
      </progress>
    </div>
  );
}

/** A coloured status word (pending, processing, completed, failed …). */
export function Status({ status }: { status: string }) {
  const { t } = useI18n();
  const key = `status.${status}` as MessageKey;
  return <span class={`status status-${status}`}>{t(key)}</span>;
}

/** A link that changes page without reloading. */
export function Link(props: { href: string; class?: string; children: ComponentChildren; 'aria-current'?: 'page' }) {
  return (
    <a href={props.href} class={props.class} onClick={linkClick} aria-current={props['aria-current']}>
      {props.children}
    </a>
  );
}

/** An error line for the user (role=alert so that screen readers say it). */
export function ErrorLine({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p class="error" role="alert">
      {t('common.error', { message })}
    </p>
  );
}

/** A size in bytes, written short (KB, MB). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
