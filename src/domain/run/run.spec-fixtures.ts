// Builders shared by the run domain's specs (kept beside them: the run folder is self-contained).
import type { SerializedWorkflow, WorkflowBlock, WorkflowConnection } from '../workflow/workflow';
import type { BlockSpec, SpecLookup } from './block-spec';
import { pinBlocks } from './block-pins';
import { createRunDecider, type RunDecider } from './run.decider';
import type { RunEvent } from './run.events';
import type { RunAction } from './run.actions';
import type { RunPorts } from './run.translate';
import type { StepError, StepReport } from './step-result';

export const T0 = new Date('2025-01-01T00:00:00.000Z');

/** `T0` plus `ms`. */
export function at(ms: number): Date {
  return new Date(T0.getTime() + ms);
}

const SPECS: Record<string, BlockSpec> = {
  trigger_manual: { kind: 'trigger' },
  action: { kind: 'action' },
  condition: { kind: 'action', retry: { maxAttempts: 1 } },
  flaky: { kind: 'action', retry: { maxAttempts: 3, initialIntervalMs: 1000, jitter: 0 } },
  strict: { kind: 'action', retry: { maxAttempts: 5, nonRetryableErrors: ['bad_request'] } },
  slow: { kind: 'action', timeoutMs: 5000 },
  wait_duration: { kind: 'wait' },
  wait_for_event: { kind: 'wait' },
  human_approval: { kind: 'wait' },
  mystery_wait: { kind: 'wait' },
};

export const specOf: SpecLookup = (type) => SPECS[type];

export const run: RunDecider = createRunDecider();

export function block(
  id: string,
  type = 'action',
  params: Record<string, unknown> = {},
  enabled = true,
): WorkflowBlock {
  return { id, type, params, enabled };
}

export function edge(source: string, target: string, sourceHandle?: string): WorkflowConnection {
  return sourceHandle === undefined ? { source, target } : { source, target, sourceHandle };
}

export function workflow(
  blocks: WorkflowBlock[],
  connections: WorkflowConnection[],
): SerializedWorkflow {
  return { metadata: { name: 'test', description: '' }, variables: {}, blocks, connections };
}

/** trigger → b1 → b2 → … → bN */
export function chain(n: number): SerializedWorkflow {
  const blocks = [block('trigger', 'trigger_manual')];
  const connections: WorkflowConnection[] = [];
  for (let i = 1; i <= n; i += 1) {
    blocks.push(block(`b${i}`));
    connections.push(edge(i === 1 ? 'trigger' : `b${i - 1}`, `b${i}`));
  }
  return workflow(blocks, connections);
}

export function started(wf: SerializedWorkflow, input: unknown = { n: 1 }, runId = 'r1'): RunEvent {
  const pins = pinBlocks(wf, specOf);
  const data = { runId, organizationId: 'o1', workflowId: 'w1', workflowVersion: 1, workflow: wf, blocks: pins };
  return { type: 'RunStarted', data: { ...data, input, startedAt: T0.toISOString() } };
}

/** Ports with literal params (no templates), `tok-<blockId>` tokens and a fixed jitter. */
export function ports(now: Date = T0): RunPorts & { jitter01: number } {
  return {
    now,
    resolveParams: (state, blockId) => state.graph.blocks.get(blockId)?.params ?? {},
    newApprovalToken: (blockId) => `tok-${blockId}`,
    jitter01: 0.5,
  };
}

export function ok(blockId: string, output: unknown = { from: blockId }, attempt = 1): StepReport {
  return { blockId, attempt, outcome: { ok: true, output } };
}

export function failed(blockId: string, error: Partial<StepError> = {}, attempt = 1): StepReport {
  const full = { code: 'boom', message: `${blockId} failed`, retryable: true, ...error };
  return { blockId, attempt, outcome: { ok: false, error: full } };
}

export function signal(
  name: string,
  payload: unknown,
  options: {
    signalId?: string;
    correlationKey?: string;
    scope?: 'run' | 'organization';
    at?: Date;
  } = {},
): RunEvent {
  const {
    signalId = `sig-${name}-${JSON.stringify(payload)}`,
    scope = 'run',
    correlationKey,
  } = options;
  const data = { signalId, name, payload, scope, receivedAt: (options.at ?? T0).toISOString() };
  return {
    type: 'SignalReceived',
    data: correlationKey === undefined ? data : { ...data, correlationKey },
  };
}

/** `Type:blockId` (or just `Type`) of each action, for compact assertions. */
export function summarize(actions: readonly RunAction[]): string[] {
  return actions.map((a) => ('blockId' in a ? `${a.type}:${a.blockId}` : a.type));
}

/** `Type:blockId` of each event. */
export function kinds(events: readonly RunEvent[]): string[] {
  return events.map((e) => ('blockId' in e.data ? `${e.type}:${String(e.data.blockId)}` : e.type));
}
