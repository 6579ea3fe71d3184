import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { assertPayloadFits } from '../domain/run/run.bounds';
import { AppError } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { deliverOrgEvent } from './deliver-org-event';
import { ORG_EVENT_RETENTION_MS } from './org-events';
import { RunStore } from './run-store';
import { requestHash } from '../http/request-hash';

/** The answer to a published event. */
export interface PublishedEvent {
  eventId: string;
  matchedRuns: number;
  duplicate?: boolean;
}

/**
 * Publishes an organization-wide event: stored (so a `wait_for_event` that begins later within
 * the retention window still gets it), then delivered to this organization's runs waiting on its
 * name and correlation key now. Same idempotency key and body → the first answer; another body →
 * 409 `idempotency_conflict`.
 */
export class PublishEventCommand extends Command<PublishedEvent> {
  constructor(
    readonly organizationId: string,
    readonly event: { name: string; correlationKey?: string; payload?: unknown; idempotencyKey?: string },
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(PublishEventCommand)
export class PublishEventHandler implements ICommandHandler<PublishEventCommand, PublishedEvent> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(RunStore) private readonly runs: RunStore,
  ) {}

  async execute({ organizationId, event, metadata }: PublishEventCommand): Promise<PublishedEvent> {
    const payload = event.payload ?? null;
    assertPayloadFits('event payload', payload, this.runs.decider.limits);
    const correlationKey = event.correlationKey ?? null;
    const hash = requestHash({ name: event.name, correlationKey, payload });
    const eventId = randomUUID();
    const inserted = await this.pool.query(
      `INSERT INTO org_events (event_id, organization_id, name, correlation_key, payload, idempotency_key, request_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8::bigint * interval '1 millisecond')
       ON CONFLICT (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
      [eventId, organizationId, event.name, correlationKey, JSON.stringify(payload), event.idempotencyKey ?? null, hash, ORG_EVENT_RETENTION_MS],
    );
    if (inserted.rowCount === 0) return this.earlier(organizationId, event.idempotencyKey!, hash);
    const matchedRuns = await deliverOrgEvent(this.pool, this.runs, { eventId, organizationId, name: event.name, correlationKey, payload }, metadata);
    return { eventId, matchedRuns };
  }

  private async earlier(organizationId: string, key: string, hash: string): Promise<PublishedEvent> {
    const { rows } = await this.pool.query<{ event_id: string; matched_runs: number; request_hash: string }>(
      'SELECT event_id, matched_runs, request_hash FROM org_events WHERE organization_id = $1 AND idempotency_key = $2',
      [organizationId, key],
    );
    const row = rows[0];
    if (!row || row.request_hash !== hash) {
      throw new AppError('idempotency_conflict', 'This idempotency key was already used to publish a different event');
    }
    return { eventId: row.event_id, matchedRuns: row.matched_runs, duplicate: true };
  }
}
