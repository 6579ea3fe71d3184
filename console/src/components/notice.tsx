import { describeError } from '../api';

/** An error the page could not recover from by itself, announced to screen readers. */
export function ErrorNotice({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  return (
    <p className="notice notice-error" role="alert">
      {what ? `${what}: ` : ''}
      {describeError(error)}
    </p>
  );
}

/** A loading line (a polite live region: it does not interrupt). */
export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}
