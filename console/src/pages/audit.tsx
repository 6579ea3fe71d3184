import { useState, type FormEvent } from 'react';
import { api, query } from '../api';
import { LoadMore } from '../components/load-more';
import { ErrorNotice, Loading } from '../components/notice';
import { Page } from '../components/page';
import { Status } from '../components/status';
import { formatActor, formatTime } from '../format';
import type { AuditEvent, AuditVerifyReport } from '../types';
import { usePages } from '../use-pages';

type Filters = Record<'type' | 'actor' | 'agent' | 'streamId' | 'from' | 'to', string>;
const NO_FILTERS: Filters = { type: '', actor: '', agent: '', streamId: '', from: '', to: '' };

/** A `datetime-local` value (the reader's local time) as the ISO instant the API takes. */
const instant = (local: string) => (local ? new Date(local).toISOString() : '');

/** The organization's audit trail with the API's filters, and the verification of its sealed hash chain. */
export function AuditPage() {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const pages = usePages<AuditEvent>((after) => `/api/audit/events${query({ ...filters, from: instant(filters.from), to: instant(filters.to), limit: 100, after })}`);
  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setFilters(Object.fromEntries(Object.keys(NO_FILTERS).map((k) => [k, String(form.get(k) ?? '').trim()])) as Filters);
  };
  return (
    <Page title="Audit trail">
      <Verify />
      <section aria-labelledby="events-heading">
        <h2 id="events-heading">Events</h2>
        <form className="filters" onSubmit={apply} aria-label="Filter events">
          <label>
            Types (comma-separated)
            <input name="type" defaultValue={filters.type} placeholder="RunStarted,ApiKeyCreated" />
          </label>
          <label>
            Actor
            <input name="actor" defaultValue={filters.actor} placeholder="user:… or an id" />
          </label>
          <label>
            Agent label
            <input name="agent" defaultValue={filters.agent} />
          </label>
          <label>
            Stream
            <input name="streamId" defaultValue={filters.streamId} />
          </label>
          <label>
            From (your local time)
            <input name="from" type="datetime-local" step="1" defaultValue={filters.from} />
          </label>
          <label>
            To (your local time)
            <input name="to" type="datetime-local" step="1" defaultValue={filters.to} />
          </label>
          <button type="submit">Filter</button>
        </form>
        <ErrorNotice error={pages.error} what="Could not read the audit trail" />
        {pages.loading ? <Loading what="events" /> : null}
        {!pages.loading && !pages.error && pages.items.length === 0 ? <p>{pages.next ? 'No events match in the history read so far.' : 'No events match.'}</p> : null}
        {pages.items.length > 0 ? (
          <table className="audit">
            <caption>Events in commit order</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Type</th>
                <th scope="col">Stream</th>
                <th scope="col">Actor</th>
                <th scope="col">Agent</th>
                <th scope="col">Request</th>
              </tr>
            </thead>
            <tbody>
              {pages.items.map((event) => (
                <tr key={event.cursor} data-event={event.type}>
                  <td>{formatTime(event.recordedAt)}</td>
                  <td>
                    <code>{event.type}</code>
                  </td>
                  <td>
                    {event.streamId} <span className="muted">#{event.streamVersion}</span>
                  </td>
                  <td>{formatActor(event.actor)}</td>
                  <td>{event.agent ?? '—'}</td>
                  <td className="muted">{event.requestId ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <LoadMore pages={pages} what="events" />
      </section>
    </Page>
  );
}

/** `GET /api/audit/verify`, on request: it recomputes the whole chain, which takes a while on a long trail. */
function Verify() {
  const [state, setState] = useState<{ busy: boolean; report?: AuditVerifyReport; error?: unknown }>({ busy: false });
  const verify = () => {
    setState({ busy: true });
    api<AuditVerifyReport>('/api/audit/verify').then(
      (report) => setState({ busy: false, report }),
      (error: unknown) => setState({ busy: false, error }),
    );
  };
  const report = state.report;
  return (
    <section aria-labelledby="verify-heading" className="card">
      <h2 id="verify-heading">Verification</h2>
      <p className="muted">Recomputes the sealed hash chain from the stored events and checks every signed checkpoint.</p>
      <button type="button" onClick={verify} disabled={state.busy}>
        {state.busy ? 'Verifying…' : 'Verify the trail'}
      </button>
      <ErrorNotice error={state.error} what="Could not verify" />
      <div role="status" data-testid="verify-result">
        {report ? (
          <dl className="facts">
            <dt>Result</dt>
            <dd>
              <Status value={report.ok ? 'ok' : 'broken'} />
              {report.ok ? ' — every sealed event and checkpoint verifies' : ` — ${report.reason ?? 'broken'}: ${report.message ?? ''}`}
            </dd>
            <dt>Events checked</dt>
            <dd>{report.checked}</dd>
            <dt>Sealed through</dt>
            <dd>sequence {report.sealedThrough}</dd>
            <dt>Last checkpoint</dt>
            <dd>{report.lastCheckpoint ? `#${report.lastCheckpoint.number} at sequence ${report.lastCheckpoint.sequence}, ${formatTime(report.lastCheckpoint.createdAt)}` : 'none yet'}</dd>
            {report.brokenAt ? (
              <>
                <dt>Broken at</dt>
                <dd>
                  sequence {report.brokenAt.sequence}
                  {report.brokenAt.position !== null ? `, position ${report.brokenAt.position}` : ''}
                </dd>
              </>
            ) : null}
          </dl>
        ) : null}
      </div>
    </section>
  );
}
