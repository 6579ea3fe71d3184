/** Symbols beside the words; the word is the information, the symbol and colour only help. */
const SYMBOLS: Record<string, string> = {
  queued: '…',
  running: '▶',
  sleeping: '◔',
  waiting: '‖',
  pending: '‖',
  completed: '✓',
  succeeded: '✓',
  approved: '✓',
  failed: '✗',
  rejected: '✗',
  cancelled: '⊘',
  abandoned: '⊘',
  timed_out: '⊗',
  revoked: '⊘',
  active: '✓',
  applied: '✓',
  skipped: '↷',
  ok: '✓',
  broken: '✗',
  paused: '‖',
  ended: '■',
  workflow_deleted: '⊘',
  fired: '✓',
  buffered: '…',
};

/** A status as text, with a symbol and a colour class as extra cues (never the only ones). */
export function Status({ value }: { value: string }) {
  return (
    <span className={`status status-${value}`}>
      <span aria-hidden="true">{SYMBOLS[value] ?? '•'} </span>
      {value.replace('_', ' ')}
    </span>
  );
}
