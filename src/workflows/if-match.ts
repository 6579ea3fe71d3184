import { AppError } from '../errors';

/**
 * The workflow version an `If-Match` header names: `"3"`, `3` and `W/"3"` all mean 3.
 * Undefined when absent or `*` (any version); `NaN` when it names no version at all, which
 * then matches nothing (412), as HTTP prescribes for an unknown entity tag.
 */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (value === undefined || value === '' || value === '*') return undefined;
  const match = /^(?:W\/)?"?(\d{1,9})"?$/i.exec(value);
  return match ? Number(match[1]) : Number.NaN;
}

/** 412 `version_mismatch` (with `current`) unless the workflow is at the version the client named. */
export function assertVersion(expected: number | undefined, current: number): void {
  if (expected === undefined || expected === current) return;
  throw new AppError('version_mismatch', `If-Match names version ${Number.isNaN(expected) ? '(unreadable)' : expected} but the workflow is at version ${current}; read it again and resend`, { current });
}

/** An entity tag for a workflow version (`"3"`). */
export function versionTag(version: number): string {
  return `"${version}"`;
}
