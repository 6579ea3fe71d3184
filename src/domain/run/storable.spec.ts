import { firstUnstorablePath, isUnstorableText, storableText } from './storable';

describe('firstUnstorablePath', () => {
  it.each([
    ['the value itself', 'a\u0000b', '$'],
    ['a nested string, through arrays and keys that are not identifiers', { a: [1, 'ok', { 'b c': { d: '\ud800' } }] }, '$.a[2]["b c"].d'],
    ['a key before the value it holds', { ok: 1, 'k\udc00': 'x\u0000' }, '$["k\ufffd"]'],
    ['the first one in key order', { first: { x: '\u0000' }, second: '\u0000' }, '$.first.x'],
    ['an element of a top-level array', ['fine', ['also fine', '\udbff']], '$[1][1]'],
    ['an identifier key with a dollar and digits', { $a1: [{ _b2: '\u0000' }] }, '$.$a1[0]._b2'],
  ])('finds %s', (_what, value, path) => {
    expect(firstUnstorablePath(value)).toBe(path);
  });

  it('finds nothing in storable values, paired surrogates included, nor in what JSON drops', () => {
    expect(firstUnstorablePath({ text: 'ok \ud83d\ude00', list: [1, null, true, { deep: 'x' }], dropped: undefined, fn: () => '\u0000' })).toBeUndefined();
    expect(firstUnstorablePath(42)).toBeUndefined();
    expect(firstUnstorablePath(null)).toBeUndefined();
  });

  it('agrees with a path-building walk on generated values', () => {
    // The reference: the walk as it was, building every key's path on the way.
    const reference = (value: unknown, path = '$'): string | undefined => {
      if (typeof value === 'string') return isUnstorableText(value) ? path : undefined;
      if (value === null || typeof value !== 'object') return undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i += 1) {
          const found = reference(value[i], `${path}[${i}]`);
          if (found) return found;
        }
        return undefined;
      }
      for (const [key, item] of Object.entries(value)) {
        const at = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(storableText(key))}]`;
        if (isUnstorableText(key)) return at;
        const found = reference(item, at);
        if (found) return found;
      }
      return undefined;
    };
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const pieces = ['a', 'b c', '\u0000', '\ud800', '\udc00', '\ud83d\ude00', 'ok', '1x', '$y'];
    const text = () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => pieces[Math.floor(random() * pieces.length)]!).join('');
    const generate = (depth: number): unknown => {
      const kind = Math.floor(random() * (depth > 3 ? 3 : 5));
      if (kind === 0) return text();
      if (kind === 1) return Math.floor(random() * 10);
      if (kind === 2) return null;
      if (kind === 3) return Array.from({ length: Math.floor(random() * 4) }, () => generate(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [text(), generate(depth + 1)]));
    };
    let found = 0;
    for (let i = 0; i < 2_000; i += 1) {
      const value = generate(0);
      const expected = reference(value);
      if (expected) found += 1;
      expect(firstUnstorablePath(value)).toBe(expected);
    }
    expect(found).toBeGreaterThan(200); // the generated values hit both outcomes
    expect(found).toBeLessThan(1_800);
  });
});
