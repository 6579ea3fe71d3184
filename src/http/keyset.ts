import { z } from 'zod';
import { AppError } from '../errors';

/** `?after=&limit=` for keyset-paginated lists (ARCHITECTURE §9: never OFFSET). */
export const pageQuery = (maxLimit = 200, defaultLimit = 50) =>
  z.object({
    after: z.string().min(1).max(500).optional(),
    limit: z.coerce.number().int().min(1).max(maxLimit).default(defaultLimit),
  });

export type KeyPart = string | number;

/** Cursors are opaque to clients: base64url of the last row's sort key. */
export function encodeCursor(key: readonly KeyPart[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * The sort key inside a cursor this endpoint returned. `shape` names each part's type, so a
 * forged or foreign cursor is a 400 `invalid_query`, never a SQL error.
 */
export function decodeCursor(cursor: string, shape: readonly ('string' | 'number' | 'time')[]): KeyPart[] {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === shape.length && key.every((part, i) => fits(part, shape[i]!))) return key as KeyPart[];
  } catch {
    // fall through: answered below as a bad query
  }
  throw new AppError('invalid_query', 'invalid query string: after: not a cursor this endpoint returned', {
    issues: [{ path: 'after', code: 'invalid_cursor', message: 'not a cursor this endpoint returned' }],
  });
}

function fits(part: unknown, type: 'string' | 'number' | 'time'): boolean {
  if (type === 'number') return typeof part === 'number' && Number.isFinite(part);
  if (type === 'time') return typeof part === 'string' && !Number.isNaN(Date.parse(part));
  return typeof part === 'string';
}

/** A page from `limit + 1` fetched rows: the first `limit`, and a cursor when there are more. */
export function toPage<Row, Item>(rows: Row[], limit: number, item: (row: Row) => Item, keyOf: (row: Row) => KeyPart[]): { items: Item[]; next: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(item), next: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
