import type { Pool } from 'pg';
import { GroupCommit } from '../database/group-commit';
import { inTransaction } from '../database/pool';
import type { NewEvent } from './event';
import type { AppendOptions, AppendResult, EventStore } from './event-store';

interface Pending {
  streamId: string;
  expectedVersion: number;
  events: NewEvent[];
  options: Omit<AppendOptions, 'client'>;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

/** How many groups may be in flight at once, and how many appends one group holds at most. */
const MAX_GROUPS_IN_FLIGHT = 3;
const MAX_GROUP_SIZE = 50;

/**
 * Group commit (see `GroupCommit`) of appends that take more than one statement: a run batch
 * whose events another inline projection than `run_state` also handles (a wait for an event
 * begins or ends, an approval, a run fails or is cancelled). Alone, each took a transaction and
 * a commit of its own, outside the worker's one-statement groups: 1,000 runs resumed by one
 * published event made 1,000 commits, 4.4 s of their 6.2 s of database time. Under load they
 * now share a transaction, each append (with its inline projections) in stream order.
 */
export class AppendGroups {
  private readonly groups = new GroupCommit<Pending>(
    { together: (group) => this.together(group), alone: (pending) => this.writeOne(pending) },
    { maxInFlight: MAX_GROUPS_IN_FLIGHT, maxSize: MAX_GROUP_SIZE, keyOf: (pending) => pending.streamId },
  );

  constructor(
    private readonly pool: Pool,
    private readonly store: EventStore,
  ) {}

  /** `EventStore.append` outside a caller's transaction, sharing a commit with the appends queued beside it. */
  append(streamId: string, expectedVersion: number, events: NewEvent[], options: Omit<AppendOptions, 'client'>): Promise<AppendResult> {
    return new Promise((resolve, reject) => this.groups.submit({ streamId, expectedVersion, events, options, resolve, reject }));
  }

  private async together(group: Pending[]): Promise<void> {
    const results = await inTransaction(this.pool, async (client) => {
      const written: AppendResult[] = [];
      for (const p of group) written.push(await this.store.append(p.streamId, p.expectedVersion, p.events, { ...p.options, client }));
      return written;
    });
    group.forEach((p, i) => p.resolve(results[i]!));
  }

  private writeOne(pending: Pending): Promise<void> {
    return this.store.append(pending.streamId, pending.expectedVersion, pending.events, pending.options).then(pending.resolve, pending.reject);
  }
}
