import { query } from '../api';
import { LoadMore } from '../components/load-more';
import { ErrorNotice, Loading } from '../components/notice';
import { Status } from '../components/status';
import { formatActor, formatTime } from '../format';
import type { HistoryEntry } from '../types';
import { usePages } from '../use-pages';

const OP_EVENTS = new Set(['EditOpApplied', 'EditOpSkipped']);

/** Per actor and agent label: how many of their ops applied and how many were skipped. */
function byWho(entries: readonly HistoryEntry[]): { who: string; agent: string; applied: number; skipped: number }[] {
  const rows = new Map<string, { who: string; agent: string; applied: number; skipped: number }>();
  for (const entry of entries.filter((e) => OP_EVENTS.has(e.type))) {
    const who = formatActor(entry.actor);
    const agent = entry.agent ?? '—';
    const row = rows.get(`${who}\n${agent}`) ?? { who, agent, applied: 0, skipped: 0 };
    if (entry.type === 'EditOpApplied') row.applied += 1;
    else row.skipped += 1;
    rows.set(`${who}\n${agent}`, row);
  }
  return [...rows.values()];
}

function outcome(entry: HistoryEntry) {
  const data = entry.data as { reason_code?: string; reason?: string; applied?: number; skipped?: number };
  switch (entry.type) {
    case 'EditOpApplied':
      return <Status value="applied" />;
    case 'EditOpSkipped':
      return (
        <>
          <Status value="skipped" /> <code>{data.reason_code}</code> {data.reason}
        </>
      );
    case 'WorkflowPatched':
      return `new version: ${data.applied ?? 0} applied, ${data.skipped ?? 0} skipped`;
    case 'WorkflowCreated':
      return 'created';
    default:
      return entry.type;
  }
}

/**
 * Every event of the workflow's stream: which ops each actor and agent applied, which were
 * skipped and why (the skip's reason code), and the versions they made.
 */
export function WorkflowHistory({ workflowId }: { workflowId: string }) {
  const pages = usePages<HistoryEntry>((after) => `/api/workflows/${encodeURIComponent(workflowId)}/history${query({ limit: 500, after })}`);
  const summary = byWho(pages.items);
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      <ErrorNotice error={pages.error} what="Could not read the history" />
      {pages.loading ? <Loading what="the history" /> : null}
      {summary.length > 0 ? (
        <table>
          <caption>Ops by actor and agent</caption>
          <thead>
            <tr>
              <th scope="col">Actor</th>
              <th scope="col">Agent</th>
              <th scope="col">Applied</th>
              <th scope="col">Skipped</th>
            </tr>
          </thead>
          <tbody>
            {summary.map((row) => (
              <tr key={`${row.who}/${row.agent}`}>
                <td>{row.who}</td>
                <td>{row.agent}</td>
                <td>{row.applied}</td>
                <td>{row.skipped}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {pages.items.length > 0 ? (
        <table className="history">
          <caption>Every change, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Op</th>
              <th scope="col">Block</th>
              <th scope="col">Outcome</th>
              <th scope="col">Actor</th>
              <th scope="col">Agent</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {pages.items.map((entry) => {
              const data = entry.data as { operation_type?: string | null; block_id?: string | null; index?: number };
              return (
                <tr key={entry.streamVersion} data-event={entry.type}>
                  <td>{entry.version ?? '—'}</td>
                  <td>{OP_EVENTS.has(entry.type) ? `#${data.index ?? '?'} ${data.operation_type ?? '(invalid)'}` : '—'}</td>
                  <td>{data.block_id ?? '—'}</td>
                  <td>{outcome(entry)}</td>
                  <td>{formatActor(entry.actor)}</td>
                  <td>{entry.agent ?? '—'}</td>
                  <td>{formatTime(entry.recordedAt)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      <LoadMore pages={pages} what="history" />
    </section>
  );
}
