import { firstUnstorablePath } from '../domain/run/storable';
import { AppError } from '../errors';

/** The parts of a request a route reads, as Fastify decoded them. */
export interface RequestParts {
  params?: unknown;
  query?: unknown;
  body?: unknown;
}

/**
 * Refuses a request holding a NUL or an unpaired surrogate anywhere Postgres would later be asked
 * to store or compare it. A path id with one names nothing that can exist (404 `not_found`); a
 * query or body field with one is 400 `invalid_query` / `invalid_body`, naming the field. Checked
 * once here, for every route, so no schema has to remember it.
 */
export function assertStorableRequest(parts: RequestParts): void {
  const param = firstUnstorablePath(parts.params);
  if (param) throw new AppError('not_found', `no resource has this ${fieldOf(param) || 'path parameter'}: it holds a character that cannot be stored`);
  refuse(parts.query, 'invalid_query', 'query string');
  refuse(parts.body, 'invalid_body', 'body');
}

function refuse(value: unknown, code: string, where: string): void {
  const at = firstUnstorablePath(value);
  if (at === undefined) return;
  const path = fieldOf(at);
  const message = 'holds a character that cannot be stored (NUL or an unpaired UTF-16 surrogate)';
  throw new AppError(code, `invalid ${where}: ${path || '(root)'}: ${message}`, { issues: [{ path, code: 'unstorable_text', message }] });
}

/** `$.ops[0].block_id` → `ops[0].block_id`; `$` → ``. */
function fieldOf(jsonPath: string): string {
  return jsonPath.replace(/^\$\.?/, '');
}
