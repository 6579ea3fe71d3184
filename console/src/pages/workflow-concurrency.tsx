import { LoadMore } from '../components/load-more';
import { ErrorNotice } from '../components/notice';
import { formatTime } from '../format';
import type { ConcurrencyLine } from '../types';
import { usePages } from '../use-pages';

/** A workflow's concurrency lines now: per key, the runs holding a place and the runs queued for one. */
export function WorkflowConcurrency({ workflowId, limited }: { workflowId: string; limited: boolean }) {
  const pages = usePages<ConcurrencyLine>((after) => `/api/workflows/${encodeURIComponent(workflowId)}/concurrency${after ? `?after=${encodeURIComponent(after)}` : ''}`);
  // A workflow without a limit has no line, unless runs started under an earlier version's limit still take turns.
  if (!limited && pages.items.length === 0) return null;
  return (
    <section aria-labelledby="concurrency-heading">
      <h2 id="concurrency-heading">Concurrency lines</h2>
      <ErrorNotice error={pages.error} what="Could not read the concurrency lines" />
      {!pages.loading && pages.items.length === 0 ? <p>No run holds or waits for a place now.</p> : null}
      {pages.items.length > 0 ? (
        <table>
          <caption>Lines that hold or queue runs, by key</caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Running</th>
              <th scope="col">Queued</th>
              <th scope="col">Oldest queued since</th>
            </tr>
          </thead>
          <tbody>
            {pages.items.map((line) => (
              <tr key={line.key}>
                <td>{line.key === '' ? <span className="muted">(no key)</span> : <code>{line.key}</code>}</td>
                <td>{line.running}</td>
                <td>{line.queued}</td>
                <td>{line.queuedSince ? formatTime(line.queuedSince) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore pages={pages} what="lines" />
    </section>
  );
}
