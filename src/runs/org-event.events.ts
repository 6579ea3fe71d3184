import type { RefusedStart, TriggeredRun } from './event-trigger-starts';

/**
 * Facts about one organization event published with `POST /api/events`, on its own stream
 * `orgevent-<eventId>` (the organization id is the events' `organization_id`; the actor is in
 * their metadata).
 *
 * Why a stream per publication and not `org-<id>`: appends are checked against the stream's
 * version. On `org-<id>` every publication would serialize with every other publication and with
 * membership, key and secret changes of the organization (conflicts, retries, the membership
 * advisory lock), so a busy publisher would slow down or starve `POST /api/members`. A fresh
 * stream is appended at expected version 0 and never conflicts; its only other writer is the
 * delivery, whose expected version 1 makes "delivered" a fact recorded once even when a sweeper
 * and a slow publisher race for it.
 */
export type OrgEventFact = OrgEventPublished | OrgEventDelivered;

/** Version 1 of the stream: the event as published, with what idempotency and retention need. */
export interface OrgEventPublished {
  type: 'OrgEventPublished';
  data: {
    eventId: string;
    name: string;
    correlationKey?: string;
    payload: unknown;
    idempotencyKey?: string;
    /** `requestHash` of name, correlation key and payload: a replay with another body is a conflict. */
    requestHash: string;
    /** How long after publication (the event's `recorded_at`) a later wait may still take it. */
    retentionMs: number;
  };
}

/**
 * Version 2: the runs waiting at publication got it (`matchedRuns` of them), and the workflows
 * it triggers started (`startedRuns`) or could not (`refusedStarts`). Both lists are absent in
 * deliveries recorded before event triggers existed.
 */
export interface OrgEventDelivered {
  type: 'OrgEventDelivered';
  data: { eventId: string; matchedRuns: number; startedRuns?: TriggeredRun[]; refusedStarts?: RefusedStart[] };
}

export const ORG_EVENT_TYPES: readonly OrgEventFact['type'][] = ['OrgEventPublished', 'OrgEventDelivered'];

export const ORG_EVENT_STREAM_PREFIX = 'orgevent-';

export function orgEventStream(eventId: string): string {
  return `${ORG_EVENT_STREAM_PREFIX}${eventId}`;
}
