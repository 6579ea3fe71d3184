/**
 * RFC 8785 (JCS) canonical JSON: sorted keys, no whitespace, ECMAScript number form. Hashes
 * and signatures are computed over these bytes, so a producer and an offline verifier that
 * parse the same JSON agree byte for byte.
 *
 * Written here rather than taken from the `canonicalize` package because the audit sealer runs
 * it over every event, and there it cost a tenth of the process's CPU in a burst of runs: this
 * one builds each string once (no `reduce` over template strings), quotes an object key once per
 * process rather than once per use, and leaves plain strings unescaped without asking
 * `JSON.stringify`. Its output is the package's for every JSON value (a property test in
 * `canonical.spec.ts` compares them).
 */
export function canonicalJson(value: unknown): string {
  const text = write(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

/**
 * The JCS text of `value`, or undefined where JSON has none (an object member is then left out):
 * for a writer that lays out the members of an object whose keys it knows (`leafOf`).
 */
export function canonicalMember(value: unknown): string | undefined {
  return write(value);
}

/**
 * One function for every kind of value, arrays and objects included: too large for V8 to inline
 * into its callers, and a call to itself is never inlined. Split into a writer per kind, the
 * optimising compiler inlined them into one another and into `leafOf` and the sealer's loop, and
 * compiling those copies was most of the sealer's first batch in a fresh process (a burst's 2,481
 * events: 136-139 ms of CPU, against 15 warm; with V8's inlining budget cut to 200 bytes, 78).
 */
function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value.length <= PLAIN_MAX && PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new RangeError(`${value} has no JSON form`);
      return String(value); // the ECMAScript form JCS asks for (-0 is "0"), as JSON.stringify writes it
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i += 1) {
          if (i > 0) out += ',';
          out += write(value[i]) ?? 'null';
        }
        return `${out}]`;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return write((value as { toJSON: () => unknown }).toJSON());
      const object = value as Record<string, unknown>;
      // The keys in UTF-16 code unit order, the order JCS prescribes (what `<` compares). An
      // event's objects have a handful of keys each, sorted in place by insertion: `sort`
      // allocated a work array for every one of them (a third of what the sealer allocated).
      const keys = Object.keys(object);
      if (keys.length > INSERTION_SORT_MAX) keys.sort();
      else {
        for (let i = 1; i < keys.length; i += 1) {
          const key = keys[i]!;
          let j = i - 1;
          for (; j >= 0 && keys[j]! > key; j -= 1) keys[j + 1] = keys[j]!;
          keys[j + 1] = key;
        }
      }
      let out = '{';
      for (const key of keys) {
        const member = write(object[key]);
        if (member === undefined) continue;
        if (out.length > 1) out += ',';
        // Appended piece by piece: a template literal here built one more string per member.
        out += quotedKey(key);
        out += ':';
        out += member;
      }
      return `${out}}`;
    }
    case 'bigint':
      throw new TypeError('a BigInt has no JSON form');
    default:
      return undefined; // undefined, a function or a symbol
  }
}

/** Past this many keys an object's are sorted by `Array.prototype.sort`; below, in place by insertion. */
const INSERTION_SORT_MAX = 16;

/** Strings JSON writes between quotes as they are: no quote, backslash, control character or surrogate. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;
/** Longer strings go straight to JSON.stringify: the test would scan them for nothing as often as not. */
const PLAIN_MAX = 128;

/** Object keys repeat across events (`type`, `actor`, `blockId`…): each is quoted once. */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_MAX = 10_000;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < QUOTED_KEYS_MAX) quotedKeys.set(key, quoted);
  }
  return quoted;
}
