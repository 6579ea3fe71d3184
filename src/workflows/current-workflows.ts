import type { Queryable } from '../event-store/projection';
import { getCurrentWorkflow, type CurrentWorkflow } from './workflow-read-model';

/** Workflows whose current version is kept; the least recently used go first. */
const MAX_WORKFLOWS = 1000;

/**
 * The current version of the workflows this process starts runs of, so a run start reads (and
 * validates) its workflow once per version instead of once per run. An entry is only a guess:
 * the run's append checks in the same statement that the version is still current and the
 * workflow not deleted (`checkWorkflow`, migration 0014). A start whose workflow moved forgets
 * the entry and reads again, so no run ever pins a version older than a committed patch.
 */
export class CurrentWorkflows {
  private readonly entries = new Map<string, CurrentWorkflow>();

  /** The workflow from the cache, else read (and kept); undefined when it does not exist in this organization. */
  async read(db: Queryable, organizationId: string, workflowId: string): Promise<CurrentWorkflow | undefined> {
    const key = keyOf(organizationId, workflowId);
    const kept = this.entries.get(key);
    if (kept) {
      // Most recently used last: eviction takes the first.
      this.entries.delete(key);
      this.entries.set(key, kept);
      return kept;
    }
    const read = await getCurrentWorkflow(db, organizationId, workflowId);
    if (!read) return undefined;
    this.entries.set(key, read);
    if (this.entries.size > MAX_WORKFLOWS) this.entries.delete(this.entries.keys().next().value!);
    return read;
  }

  forget(organizationId: string, workflowId: string): void {
    this.entries.delete(keyOf(organizationId, workflowId));
  }
}

const keyOf = (organizationId: string, workflowId: string) => `${organizationId}\u0000${workflowId}`;
