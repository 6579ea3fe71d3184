import type { SerializedWorkflow, WorkflowBlock, WorkflowConnection } from '../../src/domain/workflow/workflow';

/** A block of a test workflow. */
export function block(id: string, type: string, params: Record<string, unknown> = {}): WorkflowBlock {
  return { id, type, params, enabled: true };
}

/** An edge; `handle` is the source handle (`true`/`false`/`error`). */
export function edge(source: string, target: string, handle?: string): WorkflowConnection {
  return handle === undefined ? { source, target } : { source, target, sourceHandle: handle };
}

/** A workflow from blocks and edges (a `trigger_manual` named `trigger` is added first unless present). */
export function workflowOf(blocks: WorkflowBlock[], connections: WorkflowConnection[], variables: Record<string, unknown> = {}): SerializedWorkflow {
  const all = blocks.some((b) => b.id === 'trigger') ? blocks : [block('trigger', 'trigger_manual'), ...blocks];
  return { metadata: { name: 'test workflow', description: '' }, variables, blocks: all, connections };
}

/** trigger → s1 → … → sN, each a `transform` of the previous value plus one. */
export function transformChain(n: number): SerializedWorkflow {
  const blocks: WorkflowBlock[] = [];
  const connections: WorkflowConnection[] = [];
  for (let i = 1; i <= n; i += 1) {
    const previous = i === 1 ? 'trigger' : `s${i - 1}`;
    blocks.push(block(`s${i}`, 'transform', { template: { step: i, from: i === 1 ? '{{trigger.n}}' : `{{${previous}.value.step}}` } }));
    connections.push(edge(previous, `s${i}`));
  }
  return workflowOf(blocks, connections);
}

/** trigger → b1…bN (each `type` with `params(i)`) → join (a `transform` over every branch). */
export function fanOut(n: number, type: string, params: (i: number) => Record<string, unknown>): SerializedWorkflow {
  const blocks: WorkflowBlock[] = [];
  const connections: WorkflowConnection[] = [];
  for (let i = 1; i <= n; i += 1) {
    blocks.push(block(`b${i}`, type, params(i)));
    connections.push(edge('trigger', `b${i}`), edge(`b${i}`, 'join'));
  }
  blocks.push(block('join', 'transform', { template: { branches: n } }));
  return workflowOf(blocks, connections);
}
