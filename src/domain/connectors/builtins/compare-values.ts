/** Operators of the `condition` connector. */
export const COMPARE_OPERATORS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'contains',
  'exists',
] as const;
/** One of `COMPARE_OPERATORS`. */
export type CompareOperator = (typeof COMPARE_OPERATORS)[number];

/**
 * Compares two JSON values. `eq`/`ne` are structural equality; the order operators compare
 * numbers (numeric strings count as numbers) or two strings, and are false otherwise;
 * `contains` is substring for strings, element for arrays, key for objects; `exists` is true
 * when `left` is neither undefined nor null.
 */
export function compareValues(left: unknown, operator: CompareOperator, right: unknown): boolean {
  switch (operator) {
    case 'eq':
      return deepEqual(left, right);
    case 'ne':
      return !deepEqual(left, right);
    case 'gt':
      return order(left, right, (d) => d > 0);
    case 'gte':
      return order(left, right, (d) => d >= 0);
    case 'lt':
      return order(left, right, (d) => d < 0);
    case 'lte':
      return order(left, right, (d) => d <= 0);
    case 'contains':
      return contains(left, right);
    case 'exists':
      return left !== undefined && left !== null;
  }
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

function order(left: unknown, right: unknown, test: (difference: number) => boolean): boolean {
  const a = asNumber(left);
  const b = asNumber(right);
  if (a !== undefined && b !== undefined) return test(a - b);
  if (typeof left === 'string' && typeof right === 'string')
    return test(left < right ? -1 : left > right ? 1 : 0);
  return false;
}

function contains(left: unknown, right: unknown): boolean {
  if (typeof left === 'string')
    return right !== undefined && right !== null && left.includes(String(right));
  if (Array.isArray(left)) return left.some((item) => deepEqual(item, right));
  if (left !== null && typeof left === 'object' && typeof right === 'string') {
    return Object.prototype.hasOwnProperty.call(left, right);
  }
  return false;
}

/** Structural equality over JSON values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  const recordA = a as Record<string, unknown>;
  const recordB = b as Record<string, unknown>;
  return keysA.every(
    (key) => Object.prototype.hasOwnProperty.call(b, key) && deepEqual(recordA[key], recordB[key]),
  );
}
