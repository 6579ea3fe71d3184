import { pinBlocks } from './block-pins';
import { buildRunGraph } from './run-graph';
import { chain, run, specOf, started } from './run.spec-fixtures';

// A run's graph is built from its pinned workflow and pins, which never change once pinned: the
// runs of one pinned workflow share one graph instead of building it at every fold.
describe('buildRunGraph', () => {
  it('builds a pinned workflow’s graph once for all the runs that fold it', () => {
    const wf = chain(100);
    const start = started(wf);
    const [first, second] = [run.fold([start]), run.fold([{ ...start, data: { ...start.data, runId: 'r2' } } as typeof start])];
    expect(second.graph).toBe(first.graph);
    expect(first.graph.blocks.get('b100')).toMatchObject({ inCount: 1, out: [] });
    expect(first.graph.blocks.get('b1')!.out).toEqual([{ target: 'b2', handle: 'default' }]);
  });

  it('builds again for other pins or another workflow object, even with the same content', () => {
    const wf = chain(3);
    const pins = pinBlocks(wf, specOf);
    const graph = buildRunGraph(wf, pins);
    expect(buildRunGraph(wf, pins)).toBe(graph);
    const repinned = buildRunGraph(wf, pinBlocks(wf, specOf));
    expect(repinned).not.toBe(graph);
    expect(repinned).toEqual(graph);
    const copied = buildRunGraph(structuredClone(wf), pins);
    expect(copied).not.toBe(graph);
    expect(copied).toEqual(graph);
  });
});
