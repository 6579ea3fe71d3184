import { useState, type FormEvent } from 'react';
import { api, query } from '../api';
import { LoadMore } from '../components/load-more';
import { ErrorNotice, Loading } from '../components/notice';
import { Page } from '../components/page';
import { Status } from '../components/status';
import { formatTime, shortId } from '../format';
import { Link } from '../router';
import type { PassResult, Schedule, ScheduleTick } from '../types';
import { useApi } from '../use-api';
import { usePages } from '../use-pages';

/**
 * One schedule: its definition, its next fire times, pause (with a note) and resume, fire now,
 * and its tick ledger — every tick fired, skipped (with the reason) or buffered, with its run.
 */
export function SchedulePage({ scheduleId }: { scheduleId: string }) {
  const path = `/api/schedules/${encodeURIComponent(scheduleId)}`;
  const schedule = useApi<Schedule>(path);
  const ticks = usePages<ScheduleTick>((after) => `${path}/ticks${query({ limit: 100, after })}`);
  const [outcome, setOutcome] = useState('');
  const [error, setError] = useState<unknown>();
  const changed = (text: string) => {
    setOutcome(text);
    schedule.reload();
    ticks.reload();
  };
  const act = (call: Promise<string>) => {
    setOutcome('');
    setError(undefined);
    call.then(changed, setError);
  };
  const setPaused = (paused: boolean, note: string) =>
    act(api<Schedule>(path, { method: 'PATCH', body: { paused, ...(note ? { note } : {}) } }).then((s) => (s.paused ? 'Schedule paused: no tick fires until it is resumed.' : `Schedule resumed: next fire ${formatTime(s.nextFireAt)}.`)));
  const pause = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setPaused(true, String(new FormData(event.currentTarget).get('note') ?? ''));
  };
  const fireNow = () => act(api<PassResult>(`${path}/trigger`, { method: 'POST', body: {} }).then(describePass));
  const s = schedule.data;
  return (
    <Page title={s?.blockId ? `Schedule of block ${s.blockId}` : `Schedule ${scheduleId}`}>
      <ErrorNotice error={schedule.error} what="Could not read the schedule" />
      {schedule.loading && !s ? <Loading what="the schedule" /> : null}
      {s ? (
        <>
          <section aria-labelledby="definition-heading" className="card">
            <h2 id="definition-heading">Definition</h2>
            <dl className="facts">
              <dt>State</dt>
              <dd data-testid="schedule-state">
                <Status value={s.state} />
                {s.note ? ` — ${s.note}` : ''}
              </dd>
              <dt>Workflow</dt>
              <dd>
                <Link to={`/workflows/${s.workflowId}`}>{s.workflowId}</Link>
                {s.source === 'workflow' ? ` (its block ${s.blockId ?? ''} defines this schedule: change it there)` : ' (made through the API)'}
              </dd>
              <dt>Cron</dt>
              <dd>
                <code>{s.cron}</code> in {s.timezone}
              </dd>
              <dt>Overlap</dt>
              <dd>
                {s.overlap.replace('_', ' ')}, missed ticks caught up within {s.catchupWindowSec} s{s.bufferedTick ? `; a tick waits: ${formatTime(s.bufferedTick)}` : ''}
              </dd>
              <dt>Ends</dt>
              <dd>{s.endAt ? formatTime(s.endAt) : 'never'}</dd>
              <dt>Last run</dt>
              <dd>{s.lastRunId ? <Link to={`/runs/${s.lastRunId}`}>{s.lastRunId}</Link> : 'none yet'}</dd>
            </dl>
            <h3>{s.state === 'paused' ? 'Next fire times once resumed' : 'Next fire times'}</h3>
            {s.upcoming.length === 0 ? <p>None: the schedule is {s.state.replace('_', ' ')}.</p> : null}
            <ol aria-label="Next fire times">
              {s.upcoming.map((at) => (
                <li key={at}>{formatTime(at)}</li>
              ))}
            </ol>
            <div className="actions">
              {s.state === 'paused' ? (
                <button type="button" onClick={() => setPaused(false, '')}>
                  Resume
                </button>
              ) : null}
              {s.state === 'active' ? (
                <form className="filters" onSubmit={pause} aria-label="Pause the schedule">
                  <label>
                    Note
                    <input name="note" maxLength={1000} placeholder="why (optional)" />
                  </label>
                  <button type="submit">Pause</button>
                </form>
              ) : null}
              <button type="button" onClick={fireNow}>
                Fire now
              </button>
            </div>
            <p role="status" className={outcome ? 'notice notice-ok' : 'visually-hidden'}>
              {outcome}
            </p>
            <ErrorNotice error={error} what="Could not change the schedule" />
          </section>
          <section aria-labelledby="ticks-heading">
            <h2 id="ticks-heading">Ticks</h2>
            <ErrorNotice error={ticks.error} what="Could not read the ticks" />
            {!ticks.loading && ticks.items.length === 0 ? <p>No tick yet.</p> : null}
            {ticks.items.length > 0 ? (
              <table>
                <caption>Every tick, oldest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Tick</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Run</th>
                    <th scope="col">By</th>
                    <th scope="col">Recorded</th>
                  </tr>
                </thead>
                <tbody>
                  {ticks.items.map((tick, i) => (
                    <tr key={`${tick.tick}/${i}`} data-outcome={tick.outcome}>
                      <td>
                        {formatTime(tick.tick)}
                        {tick.through ? ` to ${formatTime(tick.through)} (${tick.count ?? 1} ticks)` : ''}
                      </td>
                      <td>
                        <Status value={tick.outcome} />
                        {tick.reason ? ` (${tick.reason.replace('_', ' ')})` : ''}
                      </td>
                      <td>{tick.runId ? <Link to={`/runs/${tick.runId}`}>{shortId(tick.runId)}</Link> : '—'}</td>
                      <td>{tick.origin}</td>
                      <td>{formatTime(tick.recordedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
            <LoadMore pages={ticks} what="ticks" />
          </section>
        </>
      ) : null}
    </Page>
  );
}

/** What a fire-now pass did, in words. */
function describePass(pass: PassResult): string {
  const fired = pass.fired.map((f) => `fired, run ${shortId(f.runId)}`);
  const skipped = pass.skipped.map((s) => `skipped (${s.reason})`);
  const buffered = pass.buffered.map(() => 'buffered until the running one ends');
  return `Fire now: ${[...fired, ...skipped, ...buffered].join('; ') || 'nothing to do'}.`;
}
