import { assertVersion, parseIfMatch } from './if-match';

describe('If-Match', () => {
  it('reads "3", 3 and W/"3" as version 3', () => {
    expect(parseIfMatch('"3"')).toBe(3);
    expect(parseIfMatch('3')).toBe(3);
    expect(parseIfMatch('W/"3"')).toBe(3);
    expect(parseIfMatch([' "12" '])).toBe(12);
  });

  it('treats absent and * as "any version", and an unreadable tag as matching nothing', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch('*')).toBeUndefined();
    expect(parseIfMatch('"abc"')).toBeNaN();
    expect(() => assertVersion(Number.NaN, 1)).toThrow(expect.objectContaining({ code: 'version_mismatch', details: { current: 1 } }));
  });

  it('answers version_mismatch with the current version', () => {
    expect(() => assertVersion(2, 2)).not.toThrow();
    expect(() => assertVersion(undefined, 2)).not.toThrow();
    expect(() => assertVersion(1, 2)).toThrow(expect.objectContaining({ code: 'version_mismatch', details: { current: 2 } }));
  });
});
