import { jsonSizeAtLeast } from '../json-size';
import { edgeTaken, type Settlement } from './run-graph';
import {
  SETTLED_PHASES,
  type BlockPhase,
  type IndexedPhase,
  type RunState,
  type RunStatus,
} from './run.state';

const INDEXED: ReadonlySet<BlockPhase['kind']> = new Set<IndexedPhase>([
  'ready',
  'dead',
  'running',
  'backoff',
  'waiting',
]);

/**
 * Moves a block to `phase`, keeping the phase index and the open count right. A phase object is
 * replaced, never mutated, so {@link cloneRunState} may share them. Staying in the same indexed
 * phase keeps the block's place in the index (the order decisions come out in).
 */
export function setPhase(state: RunState, blockId: string, phase: BlockPhase): void {
  const block = state.blocks.get(blockId);
  if (!block) return;
  const previous = block.phase.kind;
  block.phase = phase;
  if (previous === phase.kind) return;
  if (INDEXED.has(previous)) state.index[previous as IndexedPhase].delete(blockId);
  if (INDEXED.has(phase.kind)) state.index[phase.kind as IndexedPhase].add(blockId);
  if (!SETTLED_PHASES.has(previous) && SETTLED_PHASES.has(phase.kind)) state.open -= 1;
}

/**
 * Settles a block and resolves every edge out of it. A target whose last edge resolves becomes
 * `ready` if any edge into it was taken, else `dead` (to be skipped): a join therefore waits for
 * every parent, and is skipped only when no parent reached it.
 */
export function settle(
  state: RunState,
  blockId: string,
  phase: BlockPhase & { kind: 'succeeded' | 'failed' | 'skipped' },
  settlement: Settlement,
): void {
  setPhase(state, blockId, phase);
  const block = state.graph.blocks.get(blockId);
  if (!block) return;
  for (const edge of block.out) {
    const target = state.blocks.get(edge.target);
    if (!target || target.phase.kind !== 'pending') continue;
    target.unresolved -= 1;
    if (edgeTaken(edge.handle, settlement)) target.taken = true;
    if (target.unresolved <= 0)
      setPhase(state, edge.target, { kind: target.taken ? 'ready' : 'dead' });
  }
}

/** A block finished with `output`: it becomes the block's output and its edges resolve. */
export function succeed(state: RunState, blockId: string, output: unknown): void {
  holdOutput(state, blockId, output);
  settle(state, blockId, { kind: 'succeeded', output }, { kind: 'succeeded', output });
}

/** `output` becomes the block's output, counted in `outputBytes` (the only way `outputs` is written). */
export function holdOutput(state: RunState, blockId: string, output: unknown): void {
  state.outputBytes += jsonSizeAtLeast(output) - outputBytesOf(state, blockId);
  state.outputs[blockId] = output;
}

/** What the block's output counts in `outputBytes` now (0 without one). */
export function outputBytesOf(state: RunState, blockId: string): number {
  return blockId in state.outputs ? jsonSizeAtLeast(state.outputs[blockId]) : 0;
}

/**
 * The API status of a folded state: `running` while the worker has something to do now;
 * otherwise `waiting` when a block waits for an event or approval, `sleeping` when only timers
 * (sleeps, retry back-offs) remain. O(waits).
 */
export function deriveStatus(state: RunState): RunStatus {
  if (state.outcome) return state.outcome;
  if (!state.run || !state.begun) return 'queued';
  const { index } = state;
  const busy =
    index.ready.size + index.dead.size + index.running.size > 0 ||
    state.failure !== undefined ||
    state.cancelRequested !== undefined ||
    state.open === 0;
  if (busy) return 'running';
  let external = false;
  for (const blockId of index.waiting) {
    const phase = state.blocks.get(blockId)?.phase;
    if (phase?.kind !== 'waiting' || phase.wait.type === 'wait_duration') continue;
    const wait = phase.wait;
    if (wait.type === 'wait_for_event' ? wait.signal : wait.verdict) return 'running';
    external = true;
  }
  if (external) return 'waiting';
  return index.waiting.size + index.backoff.size > 0 ? 'sleeping' : 'running';
}
