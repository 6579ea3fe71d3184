import type { RecordedEvent } from '../event-store/event';
import { encodeCursor } from '../http/keyset';
import type { AuditEventView } from './audit-events.schemas';

/**
 * Fields that hold a live credential in events other capabilities own. A run's approval token
 * is the public link's only credential, so the trail shows that an approval was requested and
 * decided (the block id ties the two) but not the token.
 */
const REDACTED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  ApprovalRequested: ['token'],
  ApprovalDecided: ['token'],
};

export const REDACTED = '[redacted]';

/** The opaque `after` that resumes right after `event` (commit order). */
export function cursorOf(event: Pick<RecordedEvent, 'transactionId' | 'globalPosition'>): string {
  return encodeCursor([event.transactionId, event.globalPosition]);
}

/** An event as `GET /api/audit/events` shows it: payload, provenance flattened, absent ids as null. */
export function auditEventViewOf(event: RecordedEvent): AuditEventView {
  const meta = event.metadata;
  return {
    position: event.globalPosition,
    transactionId: event.transactionId,
    cursor: cursorOf(event),
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    type: event.type,
    data: redacted(event.type, event.data),
    recordedAt: event.recordedAt.toISOString(),
    actor: meta.actor ?? { type: 'system', id: 'unknown' },
    agent: meta.agent ?? null,
    requestId: meta.requestId ?? null,
    causationId: meta.causationId ?? null,
    correlationId: meta.correlationId ?? null,
  };
}

function redacted(type: string, data: unknown): unknown {
  const fields = REDACTED_FIELDS[type];
  if (!fields || typeof data !== 'object' || data === null) return data;
  const copy: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  for (const field of fields) if (field in copy) copy[field] = REDACTED;
  return copy;
}
