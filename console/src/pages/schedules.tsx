import { query } from '../api';
import { LoadMore } from '../components/load-more';
import { ErrorNotice, Loading } from '../components/notice';
import { Page } from '../components/page';
import { Status } from '../components/status';
import { formatTime, shortId } from '../format';
import { Link } from '../router';
import type { Schedule, WorkflowPage } from '../types';
import { useApi } from '../use-api';
import { usePages } from '../use-pages';

/** The organization's schedules (from workflows' trigger blocks and from the API), or one workflow's: when each fires next, and its state. */
export function SchedulesPage({ workflowId }: { workflowId: string }) {
  const workflows = useApi<WorkflowPage>('/api/workflows?limit=200');
  const pages = usePages<Schedule>((after) => `/api/schedules${query({ workflowId, limit: 100, after })}`);
  const names = new Map((workflows.data?.data ?? []).map((w) => [w.id, w.name]));
  const schedules = pages.items;
  return (
    <Page title="Schedules">
      {workflowId ? (
        <p>
          Of workflow <Link to={`/workflows/${workflowId}`}>{names.get(workflowId) ?? workflowId}</Link> only · <Link to="/schedules">all schedules</Link>
        </p>
      ) : null}
      <ErrorNotice error={pages.error} what="Could not list the schedules" />
      {pages.loading ? <Loading what="schedules" /> : null}
      {!pages.loading && !pages.error && schedules.length === 0 ? (
        <p>No schedules. A workflow gets one from a trigger_schedule block, or through POST /api/schedules.</p>
      ) : null}
      {schedules.length > 0 ? (
        <table>
          <caption>Schedules, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Schedule</th>
              <th scope="col">Workflow</th>
              <th scope="col">Cron</th>
              <th scope="col">State</th>
              <th scope="col">Next fire</th>
              <th scope="col">Last run</th>
            </tr>
          </thead>
          <tbody>
            {schedules.map((schedule) => (
              <tr key={schedule.id}>
                <td>
                  <Link to={`/schedules/${schedule.id}`} title={schedule.id}>
                    {schedule.blockId ? `block ${schedule.blockId}` : shortId(schedule.id)}
                  </Link>
                </td>
                <td>
                  <Link to={`/workflows/${schedule.workflowId}`}>{names.get(schedule.workflowId) ?? shortId(schedule.workflowId)}</Link>
                </td>
                <td>
                  <code>{schedule.cron}</code> <span className="muted">{schedule.timezone}</span>
                </td>
                <td>
                  <Status value={schedule.state} />
                </td>
                <td>{formatTime(schedule.nextFireAt)}</td>
                <td>{schedule.lastRunId ? <Link to={`/runs/${schedule.lastRunId}`}>{shortId(schedule.lastRunId)}</Link> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore pages={pages} what="schedules" />
    </Page>
  );
}
