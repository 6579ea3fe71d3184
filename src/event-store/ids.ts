import { createHash, randomUUID } from 'node:crypto';

/**
 * A UUID-shaped id derived from a name (SHA-256, RFC 4122 version 8 layout), for records that
 * another stream's events define implicitly — e.g. the schedule a workflow's trigger block
 * defines — so a projection rebuild gives them the same id every time.
 */
export function derivedId(...parts: string[]): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x80;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A new id that sorts by creation time (RFC 9562 version 7: 48 bits of Unix milliseconds, then
 * 74 random bits from `randomUUID`), for ids that name streams and key hot tables (runs). A
 * random id puts every new run's stream at a random leaf of the `(stream_id, stream_version)`
 * index and of `run_state`'s key: once those indexes outgrow the buffer cache (millions of
 * events), each start, claim and step read a cold page. Time-ordered, new runs share the few
 * leaves at the index's newest end, which stay cached whatever the history behind them.
 */
export function timeOrderedId(now: number = Date.now()): string {
  const ms = now.toString(16).padStart(12, '0');
  // randomUUID's layout: 8-4-4-4-12, its third group starting with the version digit.
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
