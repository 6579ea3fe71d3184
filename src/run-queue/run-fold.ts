import { createRunDecider } from '../domain/run/run.decider';
import type { RunEvent } from '../domain/run/run.events';
import type { RunState } from '../domain/run/run.state';
import type { RecordedEvent } from '../event-store/event';
import type { Queryable } from '../event-store/projection';
import { resolveRunDefinitions } from './run-definitions';

// The run projections' way to the folded state of a run when no writer handed it over (a
// rebuild, or an append made without a hint): fold the stream from the store. Replay reads only
// the stream (connectors are pinned in RunStarted), so any process folds it the same way. A small
// cache keeps rebuilds linear; an entry is trusted only when the event it stopped at is the one
// committed at that version (positions are never reused), so a rolled-back append can never
// poison it.

const decider = createRunDecider();

const CACHE_LIMIT = 500;
const cache = new Map<string, { state: RunState; position: number }>();

/** The state of `event`'s run after folding `event` (which is already in the store). */
export async function foldRunThrough(db: Queryable, event: RecordedEvent): Promise<RunState> {
  const cached = cache.get(event.streamId);
  if (cached && cached.state.version === event.streamVersion - 1) {
    const { rows } = await db.query<{ global_position: string }>(
      'SELECT global_position FROM events WHERE stream_id = $1 AND stream_version = $2 AND organization_id = $3',
      [event.streamId, event.streamVersion - 1, event.organizationId],
    );
    if (rows[0] && Number(rows[0].global_position) === cached.position) {
      decider.evolve(cached.state, event as unknown as RunEvent);
      cached.position = event.globalPosition;
      return cached.state;
    }
  }
  const { rows } = await db.query<{ type: string; data: unknown }>(
    'SELECT type, data FROM events WHERE stream_id = $1 AND stream_version <= $2 AND organization_id = $3 ORDER BY stream_version',
    [event.streamId, event.streamVersion, event.organizationId],
  );
  const state = decider.fold((await resolveRunDefinitions(db, rows)) as RunEvent[]);
  cache.delete(event.streamId);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(event.streamId, { state, position: event.globalPosition });
  return state;
}
