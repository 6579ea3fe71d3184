import { AppError } from '../errors';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** A usable `Idempotency-Key` header value, or undefined when none was sent. */
export function readIdempotencyKey(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') return undefined;
  if (!KEY_PATTERN.test(value)) throw new AppError('invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
  return value;
}
