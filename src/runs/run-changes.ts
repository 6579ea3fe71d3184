import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RunState } from '../domain/run/run.state';
import { EventStore } from '../event-store/event-store';
import { Notifier } from '../event-store/notifier';

/** What a local commit knows about the run it changed (absent for other processes' commits). */
export interface RunChange {
  version: number;
  ended: boolean;
  /**
   * The run's state after its end, when this process recorded the end: a waiter answers from it
   * instead of reading the stream back. Nothing changes a run's state once it has ended.
   */
  final?: RunState;
}

type Listener = (runId: string, change?: RunChange) => void;

/**
 * The final states of the runs this process saw end most recently, kept for a waiter that comes
 * just after the end (a run of pure steps ends in its start's own commit, before its `?waitMs=`
 * request waits): it answers from the state instead of reading the store twice. A final state
 * never goes stale (nothing changes a run once it has ended), so only their number is bounded.
 */
const RECENT_ENDS = 128;

/**
 * "Run X changed" hints for this process: emitted in process right after a local commit, and
 * from the event store's NOTIFY channel for commits of other processes (run starts, signals,
 * cancels, run ends — the step path does not notify). Hints only: listeners re-read the store.
 * Rides on the process's one LISTEN connection (`Notifier`, shared with the projections).
 */
@Injectable()
export class RunChanges implements OnApplicationBootstrap {
  private readonly perRun = new Map<string, Set<Listener>>();
  private readonly anyRun = new Set<Listener>();
  private readonly reconnects = new Set<() => void>();
  /** See `RECENT_ENDS`: oldest first. */
  private readonly recentEnds = new Map<string, RunState>();
  /** Runs with an append of this process in flight, and how many (see `recording`). */
  private readonly inFlight = new Map<string, number>();
  /** When an append of this process to any run last began or answered (see `quietForMs`). */
  private lastRecordedAt = -Infinity;
  /**
   * This application instance, in the NOTIFY payloads of the run changes it also emits in
   * process (`RunStore.append`): it skips hearing those a second time, later and without their
   * final state, from the channel.
   */
  readonly origin = randomUUID();

  constructor(
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(Notifier) private readonly notifier: Notifier,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const notifier = this.notifier;
    await notifier.listen(this.store.channel, (payload) => {
      const { streamId, change, origin } = parsePayload(payload);
      if (streamId?.startsWith('run-') && origin !== this.origin) this.emit(streamId.slice(4), change);
    });
    notifier.onConnect(() => this.reconnects.forEach((handler) => handler()));
    await notifier.start();
  }

  /** Tells this process's listeners that run `runId` has new events (up to `change.version`). */
  emit(runId: string, change?: RunChange): void {
    if (change?.final) {
      this.recentEnds.set(runId, change.final);
      if (this.recentEnds.size > RECENT_ENDS) this.recentEnds.delete(this.recentEnds.keys().next().value as string);
    }
    this.perRun.get(runId)?.forEach((listener) => listener(runId, change));
    this.anyRun.forEach((listener) => listener(runId, change));
  }

  /**
   * Runs `append`, an append to run `runId` whose change this process emits once it returns.
   * Meanwhile `isRecording(runId)` holds: a reader that sees the commit in the store first (its
   * answer is still on the way) can wait for the emitted change, which carries the final state.
   */
  async recording<T>(runId: string, append: () => Promise<T>): Promise<T> {
    this.inFlight.set(runId, (this.inFlight.get(runId) ?? 0) + 1);
    this.lastRecordedAt = performance.now();
    try {
      return await append();
    } finally {
      this.lastRecordedAt = performance.now();
      const left = (this.inFlight.get(runId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(runId, left);
      else this.inFlight.delete(runId);
    }
  }

  /** The final state of run `runId` when it is among the last ends this process recorded (see `RECENT_ENDS`). */
  recentEnd(runId: string): RunState | undefined {
    return this.recentEnds.get(runId);
  }

  /**
   * How long this process has recorded nothing for any run (ms; 0 while an append is in flight):
   * the runs' hot path here is quiet. Projection passes give way to it (`SubscriptionRunner`'s
   * `yieldTo`).
   */
  quietForMs(): number {
    return this.inFlight.size > 0 ? 0 : performance.now() - this.lastRecordedAt;
  }

  /** Whether an append of this process to run `runId` is in flight (see `recording`). */
  isRecording(runId: string): boolean {
    return this.inFlight.has(runId);
  }

  /** Calls `listener` when run `runId` changes; returns the unsubscribe function. */
  onRun(runId: string, listener: Listener): () => void {
    let set = this.perRun.get(runId);
    if (!set) this.perRun.set(runId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.perRun.delete(runId);
    };
  }

  /** Calls `listener` for every run change. */
  onAnyRun(listener: Listener): () => void {
    this.anyRun.add(listener);
    return () => this.anyRun.delete(listener);
  }

  /** Called after every (re)connect of the listener: notifications may have been lost. */
  onReconnect(handler: () => void): void {
    this.reconnects.add(handler);
  }
}

/** `{streamId}` from the event store; run appends add `{version, ended}` and maybe `origin`. */
function parsePayload(payload: unknown): { streamId?: string; change?: RunChange; origin?: string } {
  const value = (typeof payload === 'string' ? safeParse(payload) : payload) as { streamId?: unknown; version?: unknown; ended?: unknown; origin?: unknown } | null;
  const streamId = typeof value?.streamId === 'string' ? value.streamId : undefined;
  const origin = typeof value?.origin === 'string' ? { origin: value.origin } : {};
  if (typeof value?.version !== 'number') return streamId ? { streamId, ...origin } : origin;
  return { ...(streamId ? { streamId } : {}), change: { version: value.version, ended: value.ended === true }, ...origin };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
