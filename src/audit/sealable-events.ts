import { RECORDED_AT_EXACT } from '../event-store/event';
import type { SealableEvent } from './proof/hash-chain';

/** The columns `sealableOf` reads, from an `events` row aliased `e`. */
export const SEALABLE_COLUMNS = `e.global_position, e.stream_id, e.stream_version, e.organization_id, e.type, e.data, e.metadata, ${RECORDED_AT_EXACT.replace('recorded_at', 'e.recorded_at')} AS recorded_at_text`;

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
