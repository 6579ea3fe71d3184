import { useCallback, useEffect, useRef, useState } from 'react';
// The stream names each SSE message after its event's type: listen for every run event type.
import { RUN_EVENT_TYPES } from '../../../src/domain/run/run.events';

const ENDING = new Set(['RunCompleted', 'RunFailed', 'RunCancelled']);
const MAX_SHOWN = 500;

export interface LiveEvent {
  version: number;
  type: string;
  recordedAt: string;
}

/**
 * Follows `GET /api/runs/:id/stream` (Server-Sent Events, with the session cookie) and calls
 * `onEvent` after each event. The stream replays the run's events from the start, then follows
 * it; it is closed at the run's last event, so the browser does not reconnect to a finished run.
 */
export function useRunStream(runId: string, onEvent: () => void): { events: LiveEvent[]; following: boolean } {
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [following, setFollowing] = useState(true);
  const callback = useRef(onEvent);
  callback.current = onEvent;
  useEffect(() => {
    const source = new EventSource(`/api/runs/${encodeURIComponent(runId)}/stream`);
    const seen = new Set<number>();
    const receive = (message: MessageEvent<string>) => {
      const event = JSON.parse(message.data) as LiveEvent;
      if (seen.has(event.version)) return; // a reconnect resumes after Last-Event-ID; this is belt and braces
      seen.add(event.version);
      setEvents((list) => [...list, { version: event.version, type: event.type, recordedAt: event.recordedAt }].slice(-MAX_SHOWN));
      if (ENDING.has(event.type)) {
        source.close();
        setFollowing(false);
      }
      callback.current();
    };
    for (const type of RUN_EVENT_TYPES) source.addEventListener(type, receive);
    source.onerror = () => setFollowing(source.readyState !== EventSource.CLOSED);
    return () => source.close();
  }, [runId]);
  return { events, following };
}

/**
 * `refresh` as a function that never runs twice at once: a call while one is in flight makes
 * exactly one more run after it, so a burst of events costs two reads, not one per event.
 */
export function useSerialRefresh(refresh: () => Promise<void>): () => void {
  const state = useRef({ running: false, again: false });
  const latest = useRef(refresh);
  latest.current = refresh;
  return useCallback(() => {
    const s = state.current;
    if (s.running) {
      s.again = true;
      return;
    }
    s.running = true;
    const loop = async () => {
      do {
        s.again = false;
        await latest.current().catch(() => undefined);
      } while (s.again);
      s.running = false;
    };
    void loop();
  }, []);
}
