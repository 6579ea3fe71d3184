import { cycleIfConnected, findPath, hasCycle, topologicalOrder, upstreamOf } from './dag';
import { upstreamIndex } from './upstream-index';

const edges = (...pairs: [string, string][]) =>
  pairs.map(([source, target]) => ({ source, target }));
const ids = ['t', 'a', 'b', 'c', 'd'];
const diamond = edges(['t', 'a'], ['t', 'b'], ['a', 'c'], ['b', 'c']);

describe('dag helpers', () => {
  it('orders blocks topologically, ties in block order', () => {
    expect(topologicalOrder(ids, diamond)).toEqual(['t', 'd', 'a', 'b', 'c']);
  });

  it('detects cycles', () => {
    expect(hasCycle(ids, diamond)).toBe(false);
    expect(hasCycle(ids, [...diamond, { source: 'c', target: 't' }])).toBe(true);
    expect(topologicalOrder(ids, edges(['a', 'a']))).toBeUndefined();
  });

  it('lists the upstream set of a block', () => {
    const parents = (id: string) =>
      diamond.filter((edge) => edge.target === id).map((edge) => edge.source);
    expect([...upstreamOf('c', parents)].sort()).toEqual(['a', 'b', 't']);
    expect([...upstreamOf('t', parents)]).toEqual([]);
  });

  it('answers upstream questions from its index, with a DFS fallback on cycles', () => {
    const isUpstream = upstreamIndex(ids, diamond);
    expect([
      isUpstream('t', 'c'),
      isUpstream('a', 'c'),
      isUpstream('c', 'a'),
      isUpstream('a', 'b'),
      isUpstream('d', 'c'),
      isUpstream('x', 'c'),
    ]).toEqual([true, true, false, false, false, false]);
    const cyclic = upstreamIndex(ids, edges(['a', 'b'], ['b', 'a'], ['b', 'c']));
    expect([cyclic('a', 'c'), cyclic('c', 'a')]).toEqual([true, false]);
  });

  it('finds the cycle a new edge would close', () => {
    const children = (id: string) =>
      diamond.filter((edge) => edge.source === id).map((edge) => edge.target);
    expect(cycleIfConnected('c', 't', children)).toEqual(['t', 'b', 'c']);
    expect(cycleIfConnected('t', 'c', children)).toBeUndefined();
    expect(cycleIfConnected('a', 'a', children)).toEqual(['a']);
    expect(findPath('a', 'd', children)).toBeUndefined();
  });

  it('keeps the upstream index exact on a large random DAG', () => {
    const n = 120;
    const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
    const links: { source: string; target: string }[] = [];
    for (let i = 1; i < n; i += 1)
      links.push(
        { source: `n${(i * 7919) % i}`, target: `n${i}` },
        { source: `n${(i * 31) % i}`, target: `n${i}` },
      );
    const isUpstream = upstreamIndex(nodes, links);
    const parents = (id: string) =>
      links.filter((edge) => edge.target === id).map((edge) => edge.source);
    for (const target of ['n119', 'n64', 'n3']) {
      const expected = upstreamOf(target, parents);
      for (const source of nodes) expect(isUpstream(source, target)).toBe(expected.has(source));
    }
  });
});
