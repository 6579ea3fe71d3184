import type { ReactNode } from 'react';

/** The frame of the pages shown without a session: sign-in, and the approval link. */
export function Standalone({ children }: { children: ReactNode }) {
  return (
    <>
      <header className="top">
        <span className="brand">Thodare</span>
      </header>
      <main id="main" className="narrow">
        {children}
      </main>
    </>
  );
}
