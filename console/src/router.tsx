import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** Every console URL starts here (Vite's `base`); the server answers any path below it with the app. */
export const BASE = '/console';
const CHANGE = 'thodare:navigate';

/** Whether the user moved within the app since it loaded (a link, back or forward), not just opened it. */
let navigated = false;
export const hasNavigated = () => navigated;

export interface Location {
  /** The path inside the console, e.g. `/runs/abc`. */
  path: string;
  search: URLSearchParams;
}

function current(): Location {
  const path = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : window.location.pathname;
  return { path: path === '' ? '/' : path, search: new URLSearchParams(window.location.search) };
}

/** The console location, re-rendered on every navigation (links, back and forward). */
export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => {
      navigated = true;
      setLocation(current());
    };
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return location;
}

/** Goes to a console path (`/runs?status=failed`) without reloading the page. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = `${BASE}${to}`;
  if (options.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  window.dispatchEvent(new Event(CHANGE));
}

/**
 * The parameters of `pattern` (`/runs/:id`) in `path`, or null when it does not match.
 * Parameters are percent-decoded.
 */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    const w = want[i] ?? '';
    const g = got[i] ?? '';
    if (w.startsWith(':')) {
      if (!g) return null;
      params[w.slice(1)] = decodeURIComponent(g);
    } else if (w !== g) return null;
  }
  return params;
}

/**
 * A real link (it opens in a new tab, copies, and works without the router) that navigates in
 * place on a plain click.
 */
export function Link({ to, ...rest }: { to: string } & Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'>) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a {...rest} href={`${BASE}${to}`} onClick={onClick} />;
}
