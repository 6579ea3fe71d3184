import { jsonSizeAtLeast } from '../domain/json-size';
import type { CurrentWorkflow } from './workflow-read-model';

/** How much a set of kept workflows may hold at most; the least recently used go first. */
export interface KeptBounds {
  workflows: number;
  /** Of workflow JSON, as measured by `jsonSizeAtLeast` (a workflow's params alone may weigh 4 MiB). */
  bytes: number;
}

/**
 * The current version of workflows this process used last, kept as a guess that spares a read:
 * a run start keeps the version it pinned, a patch the version it committed, and a delete forgets
 * it. The next write checks the guess in its own statement — a run's append that the version is
 * still current and the workflow not deleted (`checkWorkflow`, migration 0014), a patch's append
 * its expected stream version — and a write that finds it stale forgets it and reads again, so
 * nothing is ever written from a version older than a committed patch. Bounded in bytes as well
 * as in count: a thousand workflows at their params' limit would otherwise hold gigabytes.
 */
export class CurrentWorkflows {
  private readonly entries = new Map<string, { workflow: CurrentWorkflow; bytes: number }>();
  private bytes = 0;

  constructor(private readonly bounds: KeptBounds) {}

  /** The kept version, if any (and marks it most recently used). */
  kept(organizationId: string, workflowId: string): CurrentWorkflow | undefined {
    const key = keyOf(organizationId, workflowId);
    const entry = this.entries.get(key);
    if (entry) {
      // Most recently used last: eviction takes the first.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry?.workflow;
  }

  /** Keeps `workflow` as the most recently used; one heavier than the whole budget is not kept. */
  keep(organizationId: string, workflow: CurrentWorkflow): void {
    this.forget(organizationId, workflow.id);
    const bytes = jsonSizeAtLeast(workflow.workflow);
    if (bytes > this.bounds.bytes) return;
    this.entries.set(keyOf(organizationId, workflow.id), { workflow, bytes });
    this.bytes += bytes;
    while (this.entries.size > this.bounds.workflows || this.bytes > this.bounds.bytes) this.evict(this.entries.keys().next().value!);
  }

  forget(organizationId: string, workflowId: string): void {
    this.evict(keyOf(organizationId, workflowId));
  }

  private evict(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}

const keyOf = (organizationId: string, workflowId: string) => `${organizationId}\u0000${workflowId}`;

/**
 * The process's one set, shared by its patches, deletes and run starts (`RunsModule` provides it
 * to every process). With a set each, a start right after a patch in the same process tried the
 * version it had kept before, had its append refused (`WorkflowMoved`: its steps already played)
 * and started again from a read: a 100-block workflow's first run after each patch took 23–25 ms
 * over HTTP against ~15.5 for the next (docs/benchmark-history.md, forty-eighth session).
 */
export const KEPT_WORKFLOWS: KeptBounds = { workflows: 1000, bytes: 64 * 2 ** 20 };

export const currentWorkflowsProvider = { provide: CurrentWorkflows, useFactory: () => new CurrentWorkflows(KEPT_WORKFLOWS) };
