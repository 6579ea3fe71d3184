import { derivedId, timeOrderedId } from './ids';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ids', () => {
  it('derives the same version-8 id from the same name, another from another', () => {
    expect(derivedId('a', 'b')).toBe(derivedId('a', 'b'));
    expect(derivedId('a', 'b')).not.toBe(derivedId('ab'));
    expect(UUID.exec(derivedId('a'))?.[1]).toBe('8');
  });

  it('makes version-7 ids that carry their millisecond and sort by it, random within it', () => {
    const at = Date.UTC(2026, 11, 4, 6, 0, 0, 123);
    const first = timeOrderedId(at);
    expect(UUID.exec(first)?.[1]).toBe('7');
    expect(parseInt(first.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    const ids = [at + 1, at, at + 1000, at + 2].map((ms) => timeOrderedId(ms));
    expect([...ids].sort()).toEqual([ids[1], ids[0], ids[3], ids[2]]);
    expect(new Set(Array.from({ length: 1000 }, () => timeOrderedId(at))).size).toBe(1000);
  });
});
