import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalJson } from './canonical';

// The `canonicalize` package (a development dependency) is the reference this implementation
// must match byte for byte: every seal ever written hashes its output.

/** Strings that exercise every escaping path: quotes, backslashes, controls, lone and paired surrogates, long runs. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udc00', '😀', 'é', 'a'), maxLength: 200 }),
  fc.string({ unit: 'grapheme', minLength: 100, maxLength: 300 }),
);
/** Numbers in every ECMAScript form: -0, integers past 2^53, exponents both ways, subnormals. */
const anyNumber = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(-0, 1e21, 1e-7, 5e-324, Number.MAX_SAFE_INTEGER + 2, 0.1 + 0.2));
/** Keys that sort differently by code unit, by code point and by number ("10" before "9"). */
const anyKey = fc.oneof(hostileString, fc.constantFrom('10', '9', '', 'é', 'z', '€', '😀', '\ud800', 'a b', '__proto__x'));

const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), anyNumber, hostileString, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 6 }),
  object: fc.dictionary(anyKey, tie('value'), { maxKeys: 8 }),
})).value;

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units, drops whitespace and writes numbers in ECMAScript form', () => {
    expect(canonicalJson({ '€': 1, b: [1e21, 0.1, -0], é: 2, a: 'é' })).toBe('{"a":"é","b":[1e+21,0.1,0],"é":2,"€":1}');
  });

  it('writes what the canonicalize package writes, for any JSON value', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 3000 },
    );
  });

  it('orders the keys of small objects (sorted in place) and large ones (sorted by sort) alike', () => {
    const sizes = fc.oneof(fc.dictionary(anyKey, fc.integer(), { minKeys: 1, maxKeys: 16 }), fc.dictionary(anyKey, fc.integer(), { minKeys: 17, maxKeys: 60 }));
    fc.assert(
      fc.property(sizes, (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 1000 },
    );
  });

  it('writes what the canonicalize package writes for JSON read back from text, and for dates and members left undefined', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed: unknown = JSON.parse(JSON.stringify(value));
        expect(canonicalJson(parsed)).toBe(canonicalize(parsed));
      }),
      { numRuns: 1000 },
    );
    const mixed = { at: new Date(Date.UTC(2026, 11, 3)), gone: undefined, list: [undefined, 1] };
    expect(canonicalJson(mixed)).toBe(canonicalize(mixed));
  });

  it('refuses what JSON cannot hold', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow();
    expect(() => canonicalJson({ n: Infinity })).toThrow();
    expect(() => canonicalJson(10n)).toThrow();
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});
