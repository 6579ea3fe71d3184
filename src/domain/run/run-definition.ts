import type { SerializedWorkflow } from '../workflow/workflow';
import type { BlockPins } from './block-pins';
import type { RunStarted } from './run.events';

// What a run replays by, its workflow JSON and its blocks' pins, is the same for every run of a
// workflow version on one deployment: stored in each `RunStarted` it was most of the bytes a run
// start wrote, and every reader of the store (projections, the audit sealer) parsed it again per
// run. It is recorded once per distinct content instead, as the one event of the stream
// `definition-<digest>`, and a `RunStarted` names it by that digest. The digest (SHA-256 of the
// definition's RFC 8785 form) is computed by the writer and can be recomputed by anyone holding
// the events, so a run's pinned workflow is as provable as when it was inline. Older streams,
// with workflow and blocks inline, replay unchanged.

/** The content a `RunStarted` names: whose workflow version it is, and what replay needs of it. */
export interface RunDefinition {
  organizationId: string;
  workflowId: string;
  workflowVersion: number;
  workflow: SerializedWorkflow;
  blocks: BlockPins;
}

/** The one event of a definition stream. */
export interface RunDefinitionRecorded {
  type: 'RunDefinitionRecorded';
  data: RunDefinition;
}

/** `RunStarted` as the store holds it when its definition is recorded apart. */
export type StoredRunStartedData = Omit<RunStarted['data'], 'workflow' | 'blocks'> & { definition: string };

const STREAM_PREFIX = 'definition-';

/** The stream holding the definition of `digest` (64 hex digits). */
export function definitionStreamId(digest: string): string {
  return `${STREAM_PREFIX}${digest}`;
}

/** The digest a definition stream is named by; undefined for any other stream. */
export function digestOfDefinitionStream(streamId: string): string | undefined {
  return streamId.startsWith(STREAM_PREFIX) ? streamId.slice(STREAM_PREFIX.length) : undefined;
}

/** The definition a start pins: its workflow and blocks, under the run's organization and workflow version. */
export function definitionOf(data: RunStarted['data']): RunDefinition {
  return { organizationId: data.organizationId, workflowId: data.workflowId, workflowVersion: data.workflowVersion, workflow: data.workflow, blocks: data.blocks ?? {} };
}

/** Whether a stored `RunStarted` names its definition instead of carrying it. */
export function namesDefinition(data: unknown): data is StoredRunStartedData {
  const record = data as Partial<RunStarted['data']> | null;
  return typeof record?.definition === 'string' && record.workflow === undefined;
}

/** The stored form of a start whose `definition` is set: everything but workflow and blocks. */
export function storedRunStarted(data: RunStarted['data'] & { definition: string }): StoredRunStartedData {
  const { workflow: _workflow, blocks: _blocks, ...stored } = data;
  return stored;
}

/**
 * A stored start joined with the definition it names, as the domain folds it. Throws when the
 * definition is another organization's or another workflow version's: a stream pointing there is
 * corrupt, and folding it would run the wrong workflow.
 */
export function resolvedRunStarted(stored: StoredRunStartedData, definition: RunDefinition): RunStarted['data'] {
  if (definition.organizationId !== stored.organizationId || definition.workflowId !== stored.workflowId || definition.workflowVersion !== stored.workflowVersion) {
    throw new Error(`run ${stored.runId} names definition ${stored.definition}, which belongs to another workflow version`);
  }
  return { ...stored, workflow: definition.workflow, blocks: definition.blocks };
}
