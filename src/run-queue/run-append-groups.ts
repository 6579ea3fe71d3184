import { GroupCommit } from '../database/group-commit';
import type { Queryable } from '../event-store/projection';
import { appendRunBatch, settleRunBatch, writeRunBatches, type Item } from './run-append';

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
 * statement and one commit, at most one batch per run in a group, sorted by run.
 */
export class RunAppendGroups {
  private readonly groups = new GroupCommit<Pending>(
    { together: (group) => this.together(group), alone: (pending) => this.writeOne(pending) },
    { maxInFlight: MAX_GROUPS_IN_FLIGHT, maxSize: MAX_GROUP_SIZE, keyOf: (pending) => pending.item.run },
  );

  constructor(
    private readonly pool: Queryable,
    private readonly channel: string,
  ) {}

  append(item: Item): Promise<void> {
    return new Promise((resolve, reject) => this.groups.submit({ item, resolve, reject }));
  }

  private async together(group: Pending[]): Promise<void> {
    // Alone, a batch goes through a plain statement instead of the append function.
    if (group.length === 1) return this.writeOne(group[0]!);
    const outcomes = await writeRunBatches(this.pool, group.map((p) => p.item), this.channel);
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
