/**
 * The workflow wire format (ARCHITECTURE §8): what agents patch, what the store versions and
 * what a run pins at start. Plain data, JSON-serialisable, no behaviour.
 */
export interface BlockPosition {
  x: number;
  y: number;
}

export interface WorkflowBlock {
  id: string;
  type: string;
  name?: string;
  params: Record<string, unknown>;
  enabled: boolean;
  position?: BlockPosition;
}

export interface WorkflowConnection {
  source: string;
  target: string;
  /** `true`/`false` out of a `condition`, `error` out of any action block; absent = default. */
  sourceHandle?: string;
}

export interface WorkflowMetadata {
  name: string;
  description: string;
}

export interface SerializedWorkflow {
  metadata: WorkflowMetadata;
  variables: Record<string, unknown>;
  blocks: WorkflowBlock[];
  connections: WorkflowConnection[];
}

export function emptyWorkflow(name = 'Untitled workflow', description = ''): SerializedWorkflow {
  return { metadata: { name, description }, variables: {}, blocks: [], connections: [] };
}
