import { buildAdjacency, orderOf, upstreamOf } from './dag';
import type { WorkflowConnection } from './workflow';

/**
 * `isUpstream(a, b)`: a path of connections leads from a to b. Built once per workflow in
 * O(n·(n+e)/32): each block gets a bitset of its ancestors, filled in topological order, so each
 * question is one bit test. A cyclic graph (never produced by `apply`) falls back to a DFS per question.
 */
export function upstreamIndex(
  blockIds: readonly string[],
  connections: readonly WorkflowConnection[],
): (source: string, target: string) => boolean {
  const adjacency = buildAdjacency(blockIds, connections);
  const { parents } = adjacency;
  const order = orderOf(adjacency);
  if (!order)
    return (source, target) =>
      source !== target && upstreamOf(target, (id) => parents.get(id) ?? []).has(source);
  const slot = new Map(order.map((id, index) => [id, index]));
  const words = Math.ceil(order.length / 32) || 1;
  const bits = new Uint32Array(order.length * words);
  order.forEach((id, index) => {
    const row = index * words;
    for (const parent of parents.get(id) ?? []) {
      const p = slot.get(parent) as number;
      bits[row + (p >>> 5)] = (bits[row + (p >>> 5)] as number) | (1 << (p & 31));
      for (let w = 0; w < words; w += 1)
        bits[row + w] = (bits[row + w] as number) | (bits[p * words + w] as number);
    }
  });
  return (source, target) => {
    const s = slot.get(source);
    const t = slot.get(target);
    if (s === undefined || t === undefined) return false;
    return (((bits[t * words + (s >>> 5)] as number) >>> (s & 31)) & 1) === 1;
  };
}
