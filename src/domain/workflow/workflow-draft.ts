import type {
  SerializedWorkflow,
  WorkflowBlock,
  WorkflowConnection,
  WorkflowMetadata,
} from './workflow';

/**
 * The mutable working copy `apply` edits, indexed so each op costs O(1) lookups plus, for a
 * connect, a DFS of what the target reaches. Built from an input it never mutates: blocks and
 * connections are replaced, never edited in place, so unchanged ones are shared with the input.
 */
export interface WorkflowDraft {
  metadata: WorkflowMetadata;
  variables: Record<string, unknown>;
  /** Insertion-ordered: the output keeps block order, added blocks at the end. */
  blocks: Map<string, WorkflowBlock>;
  edges: Map<string, WorkflowConnection>;
  outgoing: Map<string, Set<string>>;
  incoming: Map<string, Set<string>>;
}

/** Identity of a connection: source, target and handle. */
export function edgeKey(source: string, target: string, sourceHandle: string | undefined): string {
  return `${source}\u0000${target}\u0000${sourceHandle ?? ''}`;
}

/** A draft over `workflow`, indexed; the input is not copied deeply and never mutated. */
export function createDraft(workflow: SerializedWorkflow): WorkflowDraft {
  const draft: WorkflowDraft = {
    metadata: workflow.metadata,
    variables: workflow.variables,
    blocks: new Map(workflow.blocks.map((block) => [block.id, block])),
    edges: new Map(),
    outgoing: new Map(),
    incoming: new Map(),
  };
  for (const connection of workflow.connections) addEdge(draft, connection);
  return draft;
}

/** The draft as wire-format JSON (blocks in insertion order, connections in insertion order). */
export function draftToWorkflow(draft: WorkflowDraft): SerializedWorkflow {
  return {
    metadata: draft.metadata,
    variables: draft.variables,
    blocks: [...draft.blocks.values()],
    connections: [...draft.edges.values()],
  };
}

function indexSet(index: Map<string, Set<string>>, id: string): Set<string> {
  let set = index.get(id);
  if (!set) {
    set = new Set();
    index.set(id, set);
  }
  return set;
}

/** Adds (or replaces the identical) connection and indexes it. */
export function addEdge(draft: WorkflowDraft, connection: WorkflowConnection): void {
  const key = edgeKey(connection.source, connection.target, connection.sourceHandle);
  draft.edges.set(key, connection);
  indexSet(draft.outgoing, connection.source).add(key);
  indexSet(draft.incoming, connection.target).add(key);
}

/** Removes a connection by key; unknown keys are ignored. */
export function removeEdge(draft: WorkflowDraft, key: string): void {
  const connection = draft.edges.get(key);
  if (!connection) return;
  draft.edges.delete(key);
  draft.outgoing.get(connection.source)?.delete(key);
  draft.incoming.get(connection.target)?.delete(key);
}

/** Removes a block and every connection into or out of it; returns how many edges went. */
export function removeBlock(draft: WorkflowDraft, id: string): number {
  draft.blocks.delete(id);
  const keys = [...(draft.outgoing.get(id) ?? []), ...(draft.incoming.get(id) ?? [])];
  for (const key of keys) removeEdge(draft, key);
  draft.outgoing.delete(id);
  draft.incoming.delete(id);
  return new Set(keys).size;
}

/** Ids of the blocks `id` has an edge to. */
export function* childrenOf(draft: WorkflowDraft, id: string): Iterable<string> {
  for (const key of draft.outgoing.get(id) ?? []) {
    const target = draft.edges.get(key)?.target;
    if (target !== undefined) yield target;
  }
}

/** The connections from `source` to `target`, any handle. */
export function edgesBetween(
  draft: WorkflowDraft,
  source: string,
  target: string,
): WorkflowConnection[] {
  const found: WorkflowConnection[] = [];
  for (const key of draft.outgoing.get(source) ?? []) {
    const edge = draft.edges.get(key);
    if (edge && edge.target === target) found.push(edge);
  }
  return found;
}
