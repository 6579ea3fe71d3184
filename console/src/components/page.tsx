import { useEffect, useRef, type ReactNode } from 'react';
import { hasNavigated } from '../router';

/**
 * A page: its title in the tab and as the one `h1`. After an in-app navigation the heading takes
 * the focus, so keyboard and screen-reader users start at the top of what changed; on a fresh
 * load the focus stays at the start of the document, where the skip link is.
 */
export function Page({ title, children }: { title: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Thodare console`;
  }, [title]);
  useEffect(() => {
    if (hasNavigated()) heading.current?.focus();
  }, []);
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </>
  );
}
