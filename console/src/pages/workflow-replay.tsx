import { useState } from 'react';
import { api } from '../api';
import { ErrorNotice } from '../components/notice';
import { shortId } from '../format';
import { Link } from '../router';
import type { BulkRerunAnswer } from '../types';

/**
 * The replay after a repair: every failed run of the workflow rerun from its failure on the
 * version now, page after page under one idempotency key (a page retried after a lost answer
 * reruns nothing twice).
 */
export function WorkflowReplay({ workflowId }: { workflowId: string }) {
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<{ rerun: BulkRerunAnswer['rerun']; refused: BulkRerunAnswer['refused'] }>();
  const [error, setError] = useState<unknown>();
  const replay = async () => {
    setBusy(true);
    setDone(undefined);
    setError(undefined);
    const idempotencyKey = `console-${crypto.randomUUID()}`;
    const rerun: BulkRerunAnswer['rerun'] = [];
    const refused: BulkRerunAnswer['refused'] = [];
    try {
      let after: string | null = null;
      do {
        const page: BulkRerunAnswer = await api<BulkRerunAnswer>(`/api/workflows/${encodeURIComponent(workflowId)}/runs/rerun`, {
          method: 'POST',
          body: { status: 'failed', from: 'failure', workflowVersion: 'current', limit: 100, idempotencyKey, ...(after ? { after } : {}) },
        });
        rerun.push(...page.rerun);
        refused.push(...page.refused);
        after = page.next;
      } while (after);
      setDone({ rerun, refused });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="replay-heading">
      <h2 id="replay-heading">Replay failed runs</h2>
      <p className="muted">Each failed run is rerun from its failure on the version shown here: what succeeded before the failure keeps its output.</p>
      <button type="button" onClick={() => void replay()} disabled={busy}>
        Rerun the failed runs
      </button>
      <ErrorNotice error={error} what="Could not rerun the failed runs" />
      {done ? (
        <div role="status">
          <p>
            {done.rerun.length === 0 ? 'No failed run to rerun.' : `Rerun ${done.rerun.length} failed run${done.rerun.length === 1 ? '' : 's'}.`}
            {done.refused.length > 0 ? ` ${done.refused.length} could not be rerun.` : ''}
          </p>
          <ul>
            {done.rerun.map((run) => (
              <li key={run.runId}>
                <Link to={`/runs/${run.runId}`}>{shortId(run.runId)}</Link> reruns {shortId(run.rerunOf)}
              </li>
            ))}
            {done.refused.map((run) => (
              <li key={run.runId}>
                {shortId(run.runId)}: <code>{run.error}</code> {run.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
