import { payloadSize } from './json-size';

describe('payloadSize', () => {
  // What the JSON text takes as UTF-8 (a lone surrogate is written as U+FFFD: 3 bytes).
  const utf8 = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;

  it.each([
    ['ASCII only', { a: 'plain text', n: [1, 2, 3], ok: true }],
    ['two-byte characters', { name: 'Zoë Ångström' }],
    ['three-byte characters', { text: '東京 €' }],
    ['surrogate pairs', { emoji: 'ok \ud83d\ude00\ud83d\ude00' }],
    ['a lone surrogate', { odd: 'x\ud800y' }],
    ['escapes', { quote: 'say "hi"\n\tback\\slash', control: '\u0001' }],
    ['ASCII around one multi-byte character at the very end', { long: `${'a'.repeat(5_000)}é` }],
  ])('is the exact UTF-8 size of the JSON for %s', (_what, value) => {
    expect(payloadSize(value, 1 << 20)).toEqual({ bytes: utf8(value), exact: true });
  });
});
