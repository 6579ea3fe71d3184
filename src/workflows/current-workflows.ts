import type { CurrentWorkflow } from './workflow-read-model';

/** Workflows whose current version a run start keeps; the least recently used go first. */
const MAX_WORKFLOWS = 1000;

/**
 * The current version of the workflows this process starts runs of, so a run start reads (and
 * validates) its workflow once per version instead of once per run. A version is kept once a
 * start of it succeeded, and is only a guess: the next run's append checks in the same statement
 * that it is still current and the workflow not deleted (`checkWorkflow`, migration 0014). A
 * start whose workflow moved, or that the kept version refuses, forgets it and reads again, so
 * no run ever pins a version older than a committed patch.
 */
export class CurrentWorkflows {
  private readonly entries = new Map<string, CurrentWorkflow>();

  constructor(private readonly capacity = MAX_WORKFLOWS) {}

  /** The kept version, if any (and marks it most recently used). */
  kept(organizationId: string, workflowId: string): CurrentWorkflow | undefined {
    const key = keyOf(organizationId, workflowId);
    const workflow = this.entries.get(key);
    if (workflow) {
      // Most recently used last: eviction takes the first.
      this.entries.delete(key);
      this.entries.set(key, workflow);
    }
    return workflow;
  }

  keep(organizationId: string, workflow: CurrentWorkflow): void {
    this.entries.set(keyOf(organizationId, workflow.id), workflow);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  forget(organizationId: string, workflowId: string): void {
    this.entries.delete(keyOf(organizationId, workflowId));
  }
}

const keyOf = (organizationId: string, workflowId: string) => `${organizationId}\u0000${workflowId}`;
