/**
 * What Postgres cannot store in `jsonb` or `text`: the NUL character (`\u0000`, refused in both)
 * and UTF-16 surrogates that are not part of a pair (no Unicode scalar value; `jsonb` refuses
 * their escapes). A step's output is plain data from the outside world, so it may hold either;
 * recording it as is would fail the append on every try.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this must find
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** Whether `text` holds a character Postgres cannot store. */
export function isUnstorableText(text: string): boolean {
  return UNSTORABLE.test(text);
}

/**
 * The JSON path (`$.body.items[2].name`, `$` for the value itself) of the first string or key in
 * `value` that Postgres cannot store, or undefined when it all fits. Depth-first, in key order;
 * O(size). Values JSON drops (functions, `undefined`) are not looked at. Every step's output goes
 * through it, so the walk builds nothing until it finds one: a path string per key it passed cost
 * ~5.6 µs per kilobyte of output (warm), more than serialising it; the walk alone costs ~1.6.
 */
export function firstUnstorablePath(value: unknown): string | undefined {
  const found = unstorableAt(value);
  if (!found) return undefined;
  let path = '$';
  for (let i = found.length - 1; i >= 0; i -= 1) {
    const step = found[i]!;
    if (typeof step === 'number') path += `[${step}]`;
    else path += /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(storableText(step))}]`;
  }
  return path;
}

/** The indexes and keys leading to the first unstorable string or key in `value`, innermost first; [] for `value` itself. */
function unstorableAt(value: unknown): (string | number)[] | undefined {
  if (typeof value === 'string') return isUnstorableText(value) ? [] : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = unstorableAt(value[i]);
      if (found) {
        found.push(i);
        return found;
      }
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (isUnstorableText(key)) return [key];
    const found = unstorableAt((value as Record<string, unknown>)[key]);
    if (found) {
      found.push(key);
      return found;
    }
  }
  return undefined;
}

/** `text` with every unstorable character replaced by U+FFFD, for messages quoted from outside. */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE_ALL, '\ufffd');
}
