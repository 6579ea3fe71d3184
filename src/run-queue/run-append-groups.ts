import { GroupCommit } from '../database/group-commit';
import { classifyDatabaseError } from '../database/pg-errors';
import type { Queryable } from '../event-store/projection';
import { appendRunBatch, settleRunBatch, writeRunBatches, type Item, type RunBatchOutcome } from './run-append';

interface Pending {
  item: Item;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** How many groups may be in flight at once, and how many batches one group holds at most. */
const MAX_GROUPS_IN_FLIGHT = 3;
const MAX_GROUP_SIZE = 200;

/**
 * Group commit of run batches (see `GroupCommit`): under load the batches of many runs share one
 * statement and one commit, at most one batch per run in a group. Items are sorted by run, so
 * concurrent groups lock `run_state` rows in one order and cannot deadlock each other. When a
 * group fails (a concurrent writer on one of its streams, a batch the database refuses), its
 * items are written one by one, so each gets its own outcome.
 */
export class RunAppendGroups {
  private readonly groups = new GroupCommit<Pending>((group) => this.write(group), {
    maxInFlight: MAX_GROUPS_IN_FLIGHT,
    maxSize: MAX_GROUP_SIZE,
    keyOf: (pending) => pending.item.run,
  });

  constructor(
    private readonly pool: Queryable,
    private readonly channel: string,
  ) {}

  append(item: Item): Promise<void> {
    return new Promise((resolve, reject) => this.groups.submit({ item, resolve, reject }));
  }

  private async write(group: Pending[]): Promise<void> {
    if (group.length === 1) return this.writeOne(group[0]!);
    group.sort((a, b) => (a.item.run < b.item.run ? -1 : a.item.run > b.item.run ? 1 : 0));
    let outcomes: RunBatchOutcome[];
    try {
      outcomes = await writeRunBatches(this.pool, group.map((p) => p.item), this.channel);
    } catch (error) {
      // The database is away: every batch's outcome is the same unknown; no point trying each.
      if (classifyDatabaseError(error) === 'unavailable') return group.forEach((p) => p.reject(error));
      await Promise.all(group.map((p) => this.writeOne(p)));
      return;
    }
    group.forEach((p, i) => {
      try {
        settleRunBatch(p.item, outcomes[i]);
        p.resolve();
      } catch (error) {
        p.reject(error);
      }
    });
  }

  private writeOne(pending: Pending): Promise<void> {
    return appendRunBatch(this.pool, pending.item, this.channel).then(pending.resolve, pending.reject);
  }
}
