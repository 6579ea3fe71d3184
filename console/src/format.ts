/** Times as UTC, to the second: unambiguous whoever reads them. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `850 ms`, `2.3 s`, `4 min 3 s`, `2 h 5 min`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The first characters of a long id, for tables (the full id is in the link and its title). */
export function shortId(id: string): string {
  return id.length > 13 ? `${id.slice(0, 13)}…` : id;
}

/** `user:abc`, as the audit trail's `actor` filter takes it. */
export function formatActor(actor: { type: string; id: string } | null | undefined): string {
  return actor ? `${actor.type}:${actor.id}` : '—';
}

/** A step log row's attempt in words: attempt 0 is a rerun's block that took its output from the run it reruns. */
export function attemptText(log: { attempt: number }): string {
  return log.attempt === 0 ? 'output reused from the run rerun' : `attempt ${log.attempt}`;
}
