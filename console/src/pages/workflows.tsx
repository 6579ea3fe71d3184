import { query } from '../api';
import { LoadMore } from '../components/load-more';
import { ErrorNotice, Loading } from '../components/notice';
import { Page } from '../components/page';
import { formatTime } from '../format';
import { Link } from '../router';
import type { WorkflowPage } from '../types';
import { usePages } from '../use-pages';

/** The organization's workflows, with a link to each one's blocks, history and runs. */
export function WorkflowsPage() {
  const pages = usePages<WorkflowPage['data'][number]>((after) => `/api/workflows${query({ limit: 100, after })}`);
  const workflows = pages.items;
  return (
    <Page title="Workflows">
      <ErrorNotice error={pages.error} what="Could not list the workflows" />
      {pages.loading ? <Loading what="workflows" /> : null}
      {!pages.loading && !pages.error && workflows.length === 0 ? <p>No workflows yet: an agent or a person creates them through the API (POST /api/workflows).</p> : null}
      {workflows.length > 0 ? (
        <table>
          <caption>Workflows</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Version</th>
              <th scope="col">Created</th>
              <th scope="col">Updated</th>
              <th scope="col">Runs</th>
            </tr>
          </thead>
          <tbody>
            {workflows.map((w) => (
              <tr key={w.id}>
                <td>
                  <Link to={`/workflows/${w.id}`}>{w.name || w.id}</Link>
                </td>
                <td>{w.version}</td>
                <td>{formatTime(w.createdAt)}</td>
                <td>{formatTime(w.updatedAt)}</td>
                <td>
                  <Link to={`/runs${query({ workflowId: w.id })}`} aria-label={`Runs of ${w.name || w.id}`}>
                    Runs
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore pages={pages} what="workflows" />
    </Page>
  );
}
