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
 * O(size). Values JSON drops (functions, `undefined`) are not looked at.
 */
export function firstUnstorablePath(value: unknown, path = '$'): string | undefined {
  if (typeof value === 'string') return isUnstorableText(value) ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = firstUnstorablePath(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(storableText(key))}]`;
    if (isUnstorableText(key)) return at;
    const found = firstUnstorablePath(item, at);
    if (found) return found;
  }
  return undefined;
}

/** `text` with every unstorable character replaced by U+FFFD, for messages quoted from outside. */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE_ALL, '\ufffd');
}
