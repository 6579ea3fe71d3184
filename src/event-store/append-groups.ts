import { GroupCommit } from '../database/group-commit';
import type { NewEvent } from './event';
import type { AppendOptions, AppendResult } from './event-store';
import type { Projection } from './projection';

/** An append that commits on its own but takes more than its insert: inline projections, or a NOTIFY. */
export interface CommittedAppend {
  streamId: string;
  expectedVersion: number;
  events: NewEvent[];
  options: Omit<AppendOptions, 'client'>;
  /** The inline projections its events concern (`EventStore.inlineProjectionsOf`). */
  projections: Projection[];
}

/** How an `AppendGroups` writes: what the event store does on its pool. */
export interface CommittedAppendWriter {
  /** The appends, to different streams, one after another in one transaction: their results in order. */
  appendTogether(appends: readonly CommittedAppend[]): Promise<AppendResult[]>;
  /** One append in a commit of its own: its result, or its own error. */
  appendAlone(append: CommittedAppend): Promise<AppendResult>;
}

interface Pending extends CommittedAppend {
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

/** How many groups may be in flight at once, and how many appends one group holds at most. */
const MAX_GROUPS_IN_FLIGHT = 3;
const MAX_GROUP_SIZE = 50;

/**
 * Group commit (see `GroupCommit`) of the event store's appends that commit on their own and take
 * more than one statement: an inline projection's writes (a workflow created, patched or
 * deleted, a schedule or a webhook created, a run batch that begins a wait or fails the run), or
 * a NOTIFY. Alone, each took a transaction and
 * a commit of its own: 1,000 runs resumed by one published event made 1,000 commits, 4.4 s of
 * their 6.2 s of database time. Under load they share a transaction, each append (with its inline
 * projections) in stream order; when the group fails, each is written alone and meets its own
 * outcome. A group of one is written alone, in one statement when it has no inline projection.
 */
export class AppendGroups {
  private readonly groups = new GroupCommit<Pending>(
    { together: (group) => this.together(group), alone: (pending) => this.alone(pending) },
    { maxInFlight: MAX_GROUPS_IN_FLIGHT, maxSize: MAX_GROUP_SIZE, keyOf: (pending) => pending.streamId },
  );

  constructor(private readonly writer: CommittedAppendWriter) {}

  append(append: CommittedAppend): Promise<AppendResult> {
    return new Promise((resolve, reject) => this.groups.submit({ ...append, resolve, reject }));
  }

  private async together(group: Pending[]): Promise<void> {
    if (group.length === 1) return this.alone(group[0]!);
    const results = await this.writer.appendTogether(group);
    group.forEach((pending, i) => pending.resolve(results[i]!));
  }

  private alone(pending: Pending): Promise<void> {
    return this.writer.appendAlone(pending).then(pending.resolve, pending.reject);
  }
}
