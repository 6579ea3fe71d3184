import type { SealableEvent } from './proof/hash-chain';

/**
 * `recorded_at` with all of Postgres' microseconds, in UTC: a JavaScript Date keeps only
 * milliseconds, and the seal must cover the event exactly as stored.
 */
export const RECORDED_AT_TEXT = `to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The columns `sealableOf` reads, from an `events` row aliased `e`. */
export const SEALABLE_COLUMNS = `e.global_position, e.stream_id, e.stream_version, e.organization_id, e.type, e.data, e.metadata, ${RECORDED_AT_TEXT.replace('recorded_at', 'e.recorded_at')} AS recorded_at_text`;

export interface SealableRow {
  global_position: string;
  stream_id: string;
  stream_version: number;
  organization_id: string;
  type: string;
  data: unknown;
  metadata: unknown;
  recorded_at_text: string;
}

export function sealableOf(row: SealableRow): SealableEvent {
  return {
    position: Number(row.global_position),
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    organizationId: row.organization_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at_text,
  };
}
