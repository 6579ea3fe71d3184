// How deep JSON may nest, checked without recursion: the server refuses deeper request bodies, and
// the CLI refuses deeper files before it sends them (building the request would overflow first).

/**
 * How deep a request body may nest objects and arrays. `JSON.parse` reads any depth, but the
 * code a body then meets (validation, canonical JSON, templates, `JSON.stringify` itself, which
 * overflows the stack near 10,000 levels) recurses: at 5,000 levels every route that takes free
 * JSON (run input, signal and event payloads, block params, webhook deliveries) answered 500.
 * Real payloads nest a dozen levels; a hundred leaves room for any of them.
 */
export const MAX_BODY_DEPTH = 100;

/** Whether `value` nests objects or arrays deeper than `limit` levels (read without recursion). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const nodes: unknown[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop();
    const depth = depths.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
