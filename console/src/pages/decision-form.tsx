import { useId, useState } from 'react';
import { api } from '../api';
import { ErrorNotice } from '../components/notice';
import type { ApprovalDecision } from '../types';

/**
 * Approve or reject one approval, with an optional note, through `POST /api/approvals/:token`.
 * `onError` may claim an error (answer true) to show it its own way.
 */
export function DecisionForm(props: { token: string; context?: string; onDecided: (status: ApprovalDecision['status']) => void; onError?: (error: unknown) => boolean }) {
  const noteId = useId();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const decide = async (approved: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const body = { approved, ...(note.trim() ? { note: note.trim() } : {}) };
      const decision = await api<ApprovalDecision>(`/api/approvals/${encodeURIComponent(props.token)}`, { method: 'POST', body });
      props.onDecided(decision.status);
    } catch (e) {
      if (!props.onError?.(e)) setError(e);
    } finally {
      setBusy(false);
    }
  };
  const about = props.context ? ` ${props.context}` : '';
  return (
    <form className="stack decision" onSubmit={(e) => e.preventDefault()} aria-label={`Decide${about}`}>
      <label htmlFor={noteId}>Note (optional)</label>
      <textarea id={noteId} value={note} onChange={(e) => setNote(e.target.value)} maxLength={4000} rows={3} />
      <ErrorNotice error={error} what="The decision was not recorded" />
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => void decide(true)} aria-label={`Approve${about}`}>
          Approve
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => void decide(false)} aria-label={`Reject${about}`}>
          Reject
        </button>
      </div>
    </form>
  );
}
