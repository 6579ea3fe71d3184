import type { WorkflowConnection } from './workflow';

/**
 * Graph helpers over a workflow's blocks and connections, shared by `apply`, validation and the
 * run decider. All are deterministic: ties follow block order, then connection order.
 */
export interface Adjacency {
  children: ReadonlyMap<string, readonly string[]>;
  parents: ReadonlyMap<string, readonly string[]>;
}

/** Children and parents of every block id (edges to unknown ids are ignored). */
export function buildAdjacency(
  blockIds: readonly string[],
  connections: readonly WorkflowConnection[],
): Adjacency {
  const children = new Map<string, string[]>(blockIds.map((id) => [id, []]));
  const parents = new Map<string, string[]>(blockIds.map((id) => [id, []]));
  for (const { source, target } of connections) {
    const out = children.get(source);
    const into = parents.get(target);
    if (!out || !into) continue;
    out.push(target);
    into.push(source);
  }
  return { children, parents };
}

/** Kahn's algorithm. Undefined when the graph has a cycle. */
export function topologicalOrder(
  blockIds: readonly string[],
  connections: readonly WorkflowConnection[],
): string[] | undefined {
  return orderOf(buildAdjacency(blockIds, connections));
}

/** Kahn's algorithm over a prebuilt adjacency. Undefined when the graph has a cycle. */
export function orderOf({ children, parents }: Adjacency): string[] | undefined {
  const pending = new Map<string, number>();
  const ready: string[] = [];
  for (const id of children.keys()) {
    const count = parents.get(id)?.length ?? 0;
    pending.set(id, count);
    if (count === 0) ready.push(id);
  }
  const order: string[] = [];
  for (let i = 0; i < ready.length; i += 1) {
    const id = ready[i] as string;
    order.push(id);
    for (const child of children.get(id) ?? []) {
      const left = (pending.get(child) ?? 0) - 1;
      pending.set(child, left);
      if (left === 0) ready.push(child);
    }
  }
  return order.length === children.size ? order : undefined;
}

/** Whether the connections contain a cycle. */
export function hasCycle(
  blockIds: readonly string[],
  connections: readonly WorkflowConnection[],
): boolean {
  return topologicalOrder(blockIds, connections) === undefined;
}

/**
 * A path `from … to` following `next`, or undefined when `to` is unreachable. Iterative DFS,
 * O(reachable nodes + edges).
 */
export function findPath(
  from: string,
  to: string,
  next: (id: string) => Iterable<string>,
): string[] | undefined {
  const cameFrom = new Map<string, string | null>([[from, null]]);
  const stack = [from];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (id === to) {
      const path: string[] = [];
      for (let at: string | null | undefined = id; at != null; at = cameFrom.get(at)) path.push(at);
      return path.reverse();
    }
    for (const child of next(id)) {
      if (cameFrom.has(child)) continue;
      cameFrom.set(child, id);
      stack.push(child);
    }
  }
  return undefined;
}

/** The edge source → target would close a cycle: the path target … source that it would close. */
export function cycleIfConnected(
  source: string,
  target: string,
  children: (id: string) => Iterable<string>,
): string[] | undefined {
  if (source === target) return [source];
  return findPath(target, source, children);
}

/** Every block upstream of `blockId` (its ancestors), excluding itself. */
export function upstreamOf(
  blockId: string,
  parents: (id: string) => Iterable<string>,
): Set<string> {
  const seen = new Set<string>();
  const stack = [blockId];
  while (stack.length > 0) {
    for (const parent of parents(stack.pop() as string)) {
      if (seen.has(parent)) continue;
      seen.add(parent);
      stack.push(parent);
    }
  }
  seen.delete(blockId);
  return seen;
}
