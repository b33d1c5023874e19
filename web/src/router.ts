import { useEffect, useState } from 'preact/hooks';

/** Goes to a page of the app without reloading. */
export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.dispatchEvent(new Event('storyforge:navigate'));
  window.scrollTo(0, 0);
}

/** The current path; the component re-renders when it changes. */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    window.addEventListener('popstate', update);
    window.addEventListener('storyforge:navigate', update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('storyforge:navigate', update);
    };
  }, []);
  return path;
}

/** Click handler for in-app links: plain left clicks navigate in place, others (new tab …) go to the browser. */
export function linkClick(event: MouseEvent): void {
  const anchor = (event.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(anchor.getAttribute('href') ?? '/');
}
