import { apply } from './apply-ops';
import { measureApplyThroughput } from './apply-throughput';
import { buildPatchBenchmarkCase } from './fixtures';

describe('patch benchmark case', () => {
  it('builds a valid 200-block workflow and a 50-op batch that mostly applies', () => {
    const { catalog, workflow, ops } = buildPatchBenchmarkCase();
    expect(workflow.blocks).toHaveLength(200);
    expect(ops).toHaveLength(50);
    const result = apply(workflow, ops, catalog, { kind: 'api_key' });
    expect(result.applied.length).toBeGreaterThanOrEqual(40);
    expect(
      result.skipped_items.every((item) => item.reason_code === 'block_type_not_registered'),
    ).toBe(true);
    expect(result.validation_errors).toEqual([]);
  });

  it('measures apply throughput with a clock it is given (prints ops/s; no timing assertion)', () => {
    const result = measureApplyThroughput(() => performance.now(), { rounds: 200 });
    console.log(
      `apply throughput under jest: ${result.opsPerSecond} ops/s, ${result.msPerBatch.toFixed(3)} ms per ${result.batchSize}-op batch on ${result.blocks} blocks`,
    );
    expect(result.opsPerSecond).toBeGreaterThan(0);
  });
});
