import { createConnectorCatalog, type ConnectorCatalog } from '../connectors/connector-catalog';
import { pureBuiltinConnectors } from '../connectors/builtins/pure-builtins';
import type { SerializedWorkflow, WorkflowBlock, WorkflowConnection } from './workflow';

/** A sized workflow and patch batch for benchmarks and performance checks. */
export interface PatchBenchmarkCase {
  catalog: ConnectorCatalog;
  workflow: SerializedWorkflow;
  ops: Record<string, unknown>[];
}

/**
 * `blocks` blocks: a manual trigger, then a chain of transforms (every 10th a condition), each
 * reading its predecessor's output, with extra skip-one edges. The batch (`ops` long, 50 by
 * default) mixes what agents send: adds with references, connects sent before their adds,
 * updates, variables, disconnects, a remove, and a few mistakes that get skipped.
 */
export function buildPatchBenchmarkCase(blocks = 200, opCount = 50): PatchBenchmarkCase {
  const list: WorkflowBlock[] = [
    { id: 'start', type: 'trigger_manual', params: {}, enabled: true },
  ];
  const connections: WorkflowConnection[] = [];
  for (let i = 1; i < blocks; i += 1) {
    const previous = i === 1 ? 'start' : `step_${i - 1}`;
    const read =
      previous === 'start'
        ? '{{trigger.value}}'
        : `{{${previous}.${i % 10 === 1 && i > 1 ? 'result' : 'value'}}}`;
    const isCondition = i % 10 === 0;
    list.push({
      id: `step_${i}`,
      type: isCondition ? 'condition' : 'transform',
      params: isCondition
        ? { left: read, operator: 'exists' }
        : { template: { from: read, index: i, note: `step ${i} of {{vars.label}}` } },
      enabled: true,
    });
    const handle =
      previous.endsWith('0') && previous !== 'start' && Number(previous.slice(5)) % 10 === 0
        ? 'true'
        : undefined;
    connections.push(
      handle
        ? { source: previous, target: `step_${i}`, sourceHandle: handle }
        : { source: previous, target: `step_${i}` },
    );
    if (i > 2 && i % 10 !== 1 && i % 10 !== 2)
      connections.push({ source: `step_${i - 2}`, target: `step_${i}` });
  }
  const workflow: SerializedWorkflow = {
    metadata: { name: 'benchmark', description: '' },
    variables: { label: 'bench' },
    blocks: list,
    connections,
  };
  return {
    catalog: createConnectorCatalog(pureBuiltinConnectors()),
    workflow,
    ops: benchmarkOps(blocks, opCount),
  };
}

function benchmarkOps(blocks: number, count: number): Record<string, unknown>[] {
  const last = `step_${blocks - 1}`;
  const ops: Record<string, unknown>[] = [];
  for (let n = 0; ops.length < count; n += 1) {
    const id = `extra_${n}`;
    const from = n === 0 ? last : `extra_${n - 1}`;
    const cycle = [
      { operation_type: 'connect', block_id: from, target_block_id: id },
      {
        operation_type: 'add',
        block_id: id,
        type: 'transform',
        params: { template: `{{${from}.value}} #${n}` },
      },
      {
        operation_type: 'update',
        block_id: `step_${((n * 7) % (blocks - 1)) + 1}`,
        name: `renamed ${n}`,
      },
      { operation_type: 'set_variables', variables: { [`v${n}`]: n } },
      n % 3 === 0
        ? { operation_type: 'add', block_id: `bad_${n}`, type: 'tranform', params: { template: 1 } }
        : {
            operation_type: 'connect',
            block_id: `step_${((n * 11) % (blocks - 1)) + 1}`,
            target_block_id: id,
          },
    ];
    ops.push(...cycle);
  }
  return ops.slice(0, count);
}
