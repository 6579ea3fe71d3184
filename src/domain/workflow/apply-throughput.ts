import { apply } from './apply-ops';
import { buildPatchBenchmarkCase } from './fixtures';

/** A throughput measurement of `apply`. */
export interface ApplyThroughput {
  opsPerSecond: number;
  msPerBatch: number;
  batchSize: number;
  blocks: number;
}

/**
 * Measures in-process `apply` throughput on `buildPatchBenchmarkCase` (default: a 50-op batch on
 * a 200-block workflow, validation included), after a warm-up. The clock is passed in
 * (`performance.now` in a benchmark) so the domain never reads time itself. Target: ≥ 20,000 ops/s.
 */
export function measureApplyThroughput(
  now: () => number,
  options: { rounds?: number; blocks?: number; batchSize?: number } = {},
): ApplyThroughput {
  const { rounds = 500, blocks = 200, batchSize = 50 } = options;
  const { catalog, workflow, ops } = buildPatchBenchmarkCase(blocks, batchSize);
  for (let i = 0; i < Math.min(100, rounds); i += 1)
    apply(workflow, ops, catalog, { kind: 'api_key' });
  const started = now();
  for (let i = 0; i < rounds; i += 1) apply(workflow, ops, catalog, { kind: 'api_key' });
  const elapsedMs = Math.max(now() - started, 1e-6);
  return {
    opsPerSecond: Math.round((rounds * ops.length * 1000) / elapsedMs),
    msPerBatch: elapsedMs / rounds,
    batchSize: ops.length,
    blocks,
  };
}
