// The size of a value as UTF-8 JSON, measured without building a JSON text that could exhaust
// the heap: run payloads (inputs, outputs, signals) and workflow params are held to limits by it.

/** A payload's size as UTF-8 JSON: exact, or a lower bound already past the limit it was measured against. */
export interface PayloadSize {
  bytes: number;
  /** False when `bytes` is only a lower bound: the measure stopped once it passed the limit. */
  exact: boolean;
}

/** How a size is told in a message: `1234` or, for a lower bound, `at least 1234`. */
export function sizeText(size: PayloadSize): string {
  return size.exact ? String(size.bytes) : `at least ${size.bytes}`;
}

/**
 * The UTF-8 byte length of `value` as JSON (`undefined` counts as `null`), or `undefined` when it
 * cannot be JSON (BigInt, cycles, a getter that throws). A lower bound is taken first, walking the
 * value only until it passes `limit`, so a value whose JSON would be huge is measured without
 * building that JSON: a connector's output may hold one big string 20,000 times over (a template
 * that repeats a reference), and serialising it exhausted the heap — a crash, not an exception —
 * before V8's string length limit was reached.
 */
export function payloadSize(value: unknown, limit: number): PayloadSize | undefined {
  const atLeast = jsonLengthAtLeast(value ?? null, limit);
  if (atLeast === undefined) return undefined;
  if (atLeast > limit) return { bytes: atLeast, exact: false };
  let json: string;
  try {
    json = JSON.stringify(value ?? null);
  } catch {
    return undefined;
  }
  return { bytes: utf8Length(json), exact: true };
}

/**
 * The lower bound of `value`'s size when it is already past `limit` (see {@link payloadSize}),
 * else undefined: a check cheap enough for every step's params, which never builds their JSON.
 * A value under the bound may still be over the limit by its escapes (at most a few times it).
 */
export function plainlyOverLimit(value: unknown, limit: number): PayloadSize | undefined {
  const atLeast = jsonLengthAtLeast(value ?? null, limit);
  return atLeast !== undefined && atLeast > limit ? { bytes: atLeast, exact: false } : undefined;
}

/**
 * A lower bound of `value`'s size as JSON, walked in full but never serialised (0 when it cannot
 * be JSON): cheap enough to keep a running total of what a run holds.
 */
export function jsonSizeAtLeast(value: unknown): number {
  return jsonLengthAtLeast(value ?? null, Infinity) ?? 0;
}

/**
 * A lower bound of the length of `value`'s JSON text (which its UTF-8 length is at least), walked
 * iteratively and only until it passes `limit`: every string counts its length and quotes, every
 * key its length, quotes and colon, everything else one character. Properties JSON drops
 * (`undefined`, functions, symbols) do not count; `toJSON` is not called (the exact measure
 * does that). Undefined when reading a property throws.
 */
function jsonLengthAtLeast(value: unknown, limit: number): number | undefined {
  let total = 0;
  const pending: unknown[] = [value];
  try {
    while (pending.length > 0 && total <= limit) {
      const item = pending.pop();
      if (typeof item === 'string') total += item.length + 2;
      else if (item === null || typeof item !== 'object') total += 1;
      else if (Array.isArray(item)) {
        total += item.length + 1; // brackets and commas
        if (total <= limit) for (const element of item) pending.push(element);
      } else {
        total += 2;
        for (const key of Object.keys(item)) {
          const property: unknown = (item as Record<string, unknown>)[key];
          if (property === undefined || typeof property === 'function' || typeof property === 'symbol') continue;
          total += key.length + 4; // quotes, colon, comma
          if (total > limit) break;
          pending.push(property);
        }
      }
    }
  } catch {
    return undefined;
  }
  return total;
}

/** A character UTF-8 writes in more than one byte: most JSON has none, and then its length is its size. */
const BEYOND_ASCII = /[\u0080-\uffff]/;

function utf8Length(text: string): number {
  // The scan is native (~0.5 µs per kilobyte); the loop below ~1.6.
  if (!BEYOND_ASCII.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
