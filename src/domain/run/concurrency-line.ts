import { getPath } from '../resolver/path-access';
import type { WorkflowConcurrency } from '../workflow/workflow';
import type { ConcurrencyLine } from './run.events';

/**
 * Keys longer than this are kept as their first `KEPT_PREFIX` characters, their length and a
 * 64-bit FNV-1a hash of the whole: short enough for an index row, and two long keys differing
 * only past the prefix still make two lines.
 */
const MAX_KEY_LENGTH = 200;
const KEPT_PREFIX = 150;

/**
 * The concurrency line a run of a workflow with `concurrency` queues in: the value at `keyPath`
 * in the run input (a string, number or boolean; anything else, or none, is the key `""`), with
 * the workflow's limit. Undefined when the workflow sets no limit.
 */
export function concurrencyLineOf(concurrency: WorkflowConcurrency | undefined, input: unknown): ConcurrencyLine | undefined {
  if (!concurrency) return undefined;
  const value = concurrency.keyPath ? getPath(input, concurrency.keyPath.split('.')) : undefined;
  const key = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
  return { key: key.length > MAX_KEY_LENGTH ? `${key.slice(0, KEPT_PREFIX)}…${key.length}:${fnv1a64(key)}` : key, limit: concurrency.limit };
}

/** FNV-1a, 64 bits, over the UTF-16 code units, as 16 hex digits. */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i += 1) hash = ((hash ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, '0');
}
