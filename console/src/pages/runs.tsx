import { useState, type FormEvent } from 'react';
import { query } from '../api';
import { LoadMore } from '../components/load-more';
import { ErrorNotice, Loading } from '../components/notice';
import { Page } from '../components/page';
import { Status } from '../components/status';
import { formatTime, shortId } from '../format';
import { Link, navigate } from '../router';
import type { RunPage, WorkflowPage } from '../types';
import { useApi } from '../use-api';
import { usePages } from '../use-pages';

const STATUSES = ['queued', 'running', 'sleeping', 'waiting', 'completed', 'failed', 'cancelled'];

/** The organization's runs, newest first, filtered by workflow and status (kept in the URL). */
export function RunsPage({ workflowId, status }: { workflowId: string; status: string }) {
  const workflows = useApi<WorkflowPage>('/api/workflows?limit=200');
  const pages = usePages<RunPage['data'][number]>((after) => `/api/runs${query({ workflowId, status, limit: 50, after })}`);
  const names = new Map((workflows.data?.data ?? []).map((w) => [w.id, w.name]));
  const runs = pages.items;
  const filter = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    navigate(`/runs${query({ workflowId: String(form.get('workflowId') ?? ''), status: String(form.get('status') ?? '') })}`);
  };
  return (
    <Page title="Runs">
      {/* Keyed by the URL's filter, so the fields show it again after back/forward. */}
      <RunFilters key={`${workflowId}|${status}`} workflowId={workflowId} status={status} workflows={workflows.data?.data} onSubmit={filter} />
      <ErrorNotice error={pages.error} what="Could not list the runs" />
      {pages.loading ? <Loading what="runs" /> : null}
      {!pages.loading && !pages.error && runs.length === 0 ? <p>No runs match.</p> : null}
      {runs.length > 0 ? (
        <table>
          <caption>Runs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Workflow</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
              <th scope="col">Ended</th>
              <th scope="col">Waiting for</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={run.id}>
                <td>
                  <Link to={`/runs/${run.id}`} title={run.id}>
                    {shortId(run.id)}
                  </Link>
                </td>
                <td>
                  {names.get(run.workflowId) ?? shortId(run.workflowId)} <span className="muted">v{run.workflowVersion}</span>
                </td>
                <td>
                  <Status value={run.status} />
                </td>
                <td>{formatTime(run.startedAt)}</td>
                <td>{formatTime(run.endedAt)}</td>
                <td>{run.waitingFor ? `${run.waitingFor.kind.replace(/_/g, ' ')} (${run.waitingFor.blockId})` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore pages={pages} what="runs" />
    </Page>
  );
}

/**
 * The filter form. The workflow field is controlled rather than re-mounted when the workflow
 * names arrive: re-mounting took the keyboard focus out of the form (to the page's body) and
 * dropped a choice made meanwhile. Until the names arrive, the URL's workflow is an option of
 * its own, shown by id, so a submit keeps it.
 */
function RunFilters({ workflowId, status, workflows, onSubmit }: { workflowId: string; status: string; workflows: WorkflowPage['data'] | undefined; onSubmit: (event: FormEvent<HTMLFormElement>) => void }) {
  const [chosen, setChosen] = useState(workflowId);
  const named = workflows ?? [];
  const choices = workflowId && !named.some((w) => w.id === workflowId) ? [{ id: workflowId, name: workflowId }, ...named] : named;
  return (
    <form className="filters" onSubmit={onSubmit} aria-label="Filter runs">
      <label>
        Workflow
        <select name="workflowId" value={chosen} onChange={(event) => setChosen(event.target.value)}>
          <option value="">All workflows</option>
          {choices.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Status
        <select name="status" defaultValue={status}>
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}
