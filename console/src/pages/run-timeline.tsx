import { Status } from '../components/status';
import { attemptText, formatDuration } from '../format';
import type { Run, StepLog } from '../types';

const WAIT_TYPES = new Set(['wait_duration', 'wait_for_event', 'human_approval']);
const OPEN = new Set(['running', 'waiting']);

interface Bar {
  log: StepLog;
  offsetMs: number;
  durationMs: number;
  open: boolean;
}

/** Each attempt's place on the run's time axis; open ones run to `now` (or the run's end). */
function bars(run: Run, logs: readonly StepLog[], now: number): { rows: Bar[]; spanMs: number } {
  const starts = logs.map((l) => Date.parse(l.startedAt));
  const t0 = Math.min(Date.parse(run.startedAt ?? run.createdAt), ...starts);
  const end = run.endedAt ? Date.parse(run.endedAt) : now;
  const rows = [...logs]
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt) || a.id.localeCompare(b.id))
    .map((log) => {
      const start = Date.parse(log.startedAt);
      const open = OPEN.has(log.status) && !log.finishedAt;
      const finish = log.finishedAt ? Date.parse(log.finishedAt) : end;
      return { log, offsetMs: start - t0, durationMs: Math.max(0, finish - start), open };
    });
  const spanMs = Math.max(1, end - t0, ...rows.map((r) => r.offsetMs + r.durationMs));
  return { rows, spanMs };
}

function label(log: StepLog): string {
  const kind = WAIT_TYPES.has(log.blockType) ? ` · ${log.blockType.replace(/_/g, ' ')}` : '';
  const retry = log.attempt > 1 ? ` · retry ${log.attempt - 1}` : '';
  return `${log.blockId}${kind}${retry}`;
}

const percent = (part: number, whole: number) => `${Math.min(100, (part / whole) * 100).toFixed(2)}%`;

/**
 * A Gantt-style timeline: one row per step attempt or wait, in start order, its bar placed on
 * the run's time axis. Every fact a bar shows is also in the row's text (status, attempt, when
 * it started relative to the run, how long it took); the bars themselves are hidden from
 * assistive technology.
 */
export function RunTimeline({ run, logs, now }: { run: Run; logs: readonly StepLog[]; now: number }) {
  if (logs.length === 0) return <p className="muted">No step has started yet.</p>;
  const { rows, spanMs } = bars(run, logs, now);
  return (
    <div className="timeline">
      <p className="timeline-axis muted" aria-hidden="true">
        <span>0 s</span>
        <span>{formatDuration(spanMs)}</span>
      </p>
      <ol aria-label="Step attempts and waits in start order">
        {rows.map(({ log, offsetMs, durationMs, open }) => (
          <li key={log.id} className="timeline-row" data-block={log.blockId} data-attempt={log.attempt} data-status={log.status}>
            <span className="timeline-label">{label(log)}</span>
            <span className="timeline-track" aria-hidden="true">
              <span
                className={`timeline-bar bar-${log.status}${WAIT_TYPES.has(log.blockType) ? ' bar-wait' : ''}`}
                style={{ left: percent(offsetMs, spanMs), width: `max(${percent(durationMs, spanMs)}, 3px)` }}
              />
            </span>
            <span className="timeline-meta">
              <Status value={log.status} /> · {attemptText(log)} · started at +{formatDuration(offsetMs)} · {open ? `${formatDuration(durationMs)} so far` : `took ${formatDuration(log.durationMs ?? durationMs)}`}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
