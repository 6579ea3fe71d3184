import { useEffect, useState } from 'react';
import { api } from '../api';
import { Json } from '../components/json';
import { ErrorNotice, Loading } from '../components/notice';
import { Page } from '../components/page';
import { Status } from '../components/status';
import { attemptText, formatDuration, formatTime } from '../format';
import { Link, navigate } from '../router';
import type { Run, StepLog, StepLogPage } from '../types';
import { RunTimeline } from './run-timeline';
import { useRunStream, useSerialRefresh } from './use-run-live';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Re-renders every second while `active`, so open bars and running times grow. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/**
 * One run: status, what it waits for, its error, a timeline of every attempt, inputs and
 * outputs (hidden values arrive masked), cancel, and once it ended, rerun (from its failure, a
 * chosen step or the start; the page then shows the new run). It follows the run's event stream and
 * reads the run and its step logs again after each event: it updates without a reload.
 */
export function RunPage({ runId }: { runId: string }) {
  const [run, setRun] = useState<Run>();
  const [logs, setLogs] = useState<StepLog[]>([]);
  const [error, setError] = useState<unknown>();
  const [cancelError, setCancelError] = useState<unknown>();
  const [rerunError, setRerunError] = useState<unknown>();
  const refresh = useSerialRefresh(async () => {
    try {
      const path = `/api/runs/${encodeURIComponent(runId)}`;
      // waitMs: the logs are a projection; this waits until they cover the run's latest event.
      const [fresh, page] = await Promise.all([api<Run>(path), api<StepLogPage>(`${path}/logs?limit=500&waitMs=3000`)]);
      setRun(fresh);
      setLogs(page.data);
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  });
  useEffect(refresh, [refresh]);
  const { events, following } = useRunStream(runId, refresh);
  const ended = run ? TERMINAL.has(run.status) : false;
  const now = useNow(!!run && !ended);
  const cancel = () => {
    setCancelError(undefined);
    api(`/api/runs/${encodeURIComponent(runId)}/cancel`, { method: 'POST' }).then(refresh, setCancelError);
  };
  const [onCurrentVersion, setOnCurrentVersion] = useState(false);
  const steps = [...new Set(logs.map((log) => log.blockId))];
  const [fromBlock, setFromBlock] = useState('');
  const rerun = (from: 'failure' | 'start' | 'block') => {
    setRerunError(undefined);
    const body = { from, ...(from === 'block' ? { blockId: fromBlock || steps[0] } : {}), workflowVersion: onCurrentVersion ? 'current' : 'pinned' };
    api<{ runId: string }>(`/api/runs/${encodeURIComponent(runId)}/rerun`, { method: 'POST', body }).then((started) => navigate(`/runs/${started.runId}`), setRerunError);
  };
  return (
    <Page title={`Run ${runId}`}>
      <ErrorNotice error={error} what="Could not read the run" />
      {!run && !error ? <Loading what="the run" /> : null}
      {run ? (
        <>
          <section aria-labelledby="summary-heading" className="card">
            <h2 id="summary-heading">Summary</h2>
            <dl className="facts">
              <dt>Status</dt>
              <dd aria-live="polite" data-testid="run-status">
                <Status value={run.status} />
              </dd>
              <dt>Workflow</dt>
              <dd>
                <Link to={`/workflows/${run.workflowId}`}>{run.workflowId}</Link> version {run.workflowVersion}
              </dd>
              <dt>Started</dt>
              <dd>{formatTime(run.startedAt)}</dd>
              <dt>Ended</dt>
              <dd>{run.endedAt ? `${formatTime(run.endedAt)} (after ${formatDuration(Date.parse(run.endedAt) - Date.parse(run.startedAt ?? run.createdAt))})` : 'not yet'}</dd>
              {run.concurrency ? (
                <>
                  <dt>Concurrency</dt>
                  <dd>
                    {run.concurrency.admitted ? 'holds a place' : 'waits for a place'} in its line
                    {run.concurrency.key ? ` "${run.concurrency.key}"` : ''} (at most {run.concurrency.limit} at once)
                  </dd>
                </>
              ) : null}
              {run.deadline ? (
                <>
                  <dt>Deadline</dt>
                  <dd>{formatTime(run.deadline)} (the workflow&apos;s timeout: a run still going then fails)</dd>
                </>
              ) : null}
              {run.rerunOf ? (
                <>
                  <dt>Rerun of</dt>
                  <dd>
                    <Link to={`/runs/${run.rerunOf}`}>{run.rerunOf}</Link>
                  </dd>
                </>
              ) : null}
              <dt>Live updates</dt>
              <dd>{following ? 'following the run’s event stream' : 'the run has ended; nothing more will happen'}</dd>
            </dl>
            {!ended ? (
              <button type="button" className="danger" onClick={cancel}>
                Cancel run
              </button>
            ) : null}
            <ErrorNotice error={cancelError} what="Could not cancel" />
            {ended ? (
              <>
                <div className="actions">
                  {run.status !== 'completed' ? (
                    <button type="button" onClick={() => rerun('failure')}>
                      Rerun from the failure
                    </button>
                  ) : null}
                  <button type="button" onClick={() => rerun('start')}>
                    Rerun from the start
                  </button>
                </div>
                {steps.length > 0 ? (
                  <div className="actions">
                    <label>
                      Step to rerun from{' '}
                      <select value={fromBlock || steps[0]} onChange={(event) => setFromBlock(event.currentTarget.value)}>
                        {steps.map((blockId) => (
                          <option key={blockId}>{blockId}</option>
                        ))}
                      </select>
                    </label>
                    <button type="button" onClick={() => rerun('block')}>
                      Rerun from this step
                    </button>
                  </div>
                ) : null}
                <label className="inline-check">
                  <input type="checkbox" checked={onCurrentVersion} onChange={(event) => setOnCurrentVersion(event.currentTarget.checked)} />
                  Rerun on the workflow&apos;s current version (after a repair), not version {run.workflowVersion}
                </label>
              </>
            ) : null}
            <ErrorNotice error={rerunError} what="Could not rerun" />
          </section>
          {run.waitingFor ? <WaitingFor run={run} /> : null}
          {run.error ? (
            <section aria-labelledby="error-heading" className="card card-error">
              <h2 id="error-heading">Error</h2>
              <p>
                <code>{run.error.code}</code>
                {run.error.blockId ? ` in block ${run.error.blockId}` : ''}: {run.error.message}
              </p>
            </section>
          ) : null}
          <section aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">Timeline</h2>
            <RunTimeline run={run} logs={logs} now={now} />
          </section>
          <section aria-labelledby="attempts-heading">
            <h2 id="attempts-heading">Attempts</h2>
            <p className="muted">Hidden values (secrets, hidden params) are shown as &quot;[hidden]&quot;.</p>
            {logs.map((log) => (
              <details key={log.id} className="attempt">
                <summary>
                  {log.blockId} ({log.blockType}), {attemptText(log)}: {log.status}
                </summary>
                <Json value={log.input} label={`Input of ${log.blockId} attempt ${log.attempt}`} />
                <Json value={log.output} label={`Output of ${log.blockId} attempt ${log.attempt}`} />
                {log.error ? <Json value={log.error} label={`Error of ${log.blockId} attempt ${log.attempt}`} /> : null}
              </details>
            ))}
          </section>
          <section aria-labelledby="io-heading">
            <h2 id="io-heading">Input and outputs</h2>
            <Json value={run.input} label="Run input" />
            <Json value={run.outputs} label="Outputs by block" />
          </section>
          <section aria-labelledby="events-heading">
            <h2 id="events-heading">Events</h2>
            <ol className="events" aria-label="The run's events as they arrive">
              {events.map((event) => (
                <li key={event.version}>
                  <code>{event.type}</code> <span className="muted">#{event.version} · {formatTime(event.recordedAt)}</span>
                </li>
              ))}
            </ol>
          </section>
        </>
      ) : null}
    </Page>
  );
}

function WaitingFor({ run }: { run: Run }) {
  const waiting = run.waitingFor;
  if (!waiting) return null;
  return (
    <section aria-labelledby="waiting-heading" className="card">
      <h2 id="waiting-heading">Waiting for</h2>
      <dl className="facts">
        <dt>What</dt>
        <dd>
          {waiting.kind.replace(/_/g, ' ')} in block {waiting.blockId}
        </dd>
        {waiting.eventName ? (
          <>
            <dt>Event name</dt>
            <dd>
              <code>{waiting.eventName}</code>
              {waiting.correlationKey ? ` with correlation key ${waiting.correlationKey}` : ''}
            </dd>
          </>
        ) : null}
        {waiting.until ? (
          <>
            <dt>{waiting.kind === 'retry' ? 'Next attempt at' : 'Until'}</dt>
            <dd>{formatTime(waiting.until)}</dd>
          </>
        ) : null}
        {waiting.approvalToken ? (
          <>
            <dt>Approval</dt>
            <dd>
              <Link to={`/approvals/${waiting.approvalToken}`}>Open the approval page</Link>
            </dd>
          </>
        ) : null}
      </dl>
    </section>
  );
}
