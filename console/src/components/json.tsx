import { useId } from 'react';

/** A JSON value as indented text under a visible label. Hidden values arrive from the API already masked as "[hidden]". */
export function Json({ value, label }: { value: unknown; label: string }) {
  const id = useId();
  if (value === undefined || value === null) return <p className="muted">{label}: none</p>;
  return (
    <div className="json-block">
      <p id={id} className="json-label">
        {label}
      </p>
      {/* Focusable so a keyboard can scroll a long value. */}
      <pre className="json" aria-labelledby={id} tabIndex={0}>
        {JSON.stringify(value, null, 2)}
      </pre>
    </div>
  );
}
