import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { runStreamId } from '../domain/run/run.events';
import { EventStore } from '../event-store/event-store';
import type { RecordedEvent } from '../event-store/event';
import { resolveRunDefinitions } from '../run-queue/run-definitions';
import { assertRunExists } from './run-exists';

/** A run event as the API shows it. */
export interface RunEventView {
  version: number;
  type: string;
  data: unknown;
  metadata: unknown;
  recordedAt: string;
}

export interface RunEventPage {
  data: RunEventView[];
  /** The last version returned: pass as `after`; null when the stream has nothing more yet. */
  next: string | null;
}

/** A stored run event as the API shows it. */
export function runEventView(event: RecordedEvent): RunEventView {
  return { version: event.streamVersion, type: event.type, data: event.data, metadata: event.metadata, recordedAt: event.recordedAt.toISOString() };
}

/** `GET /api/runs/:id/events`: the raw stream, after a version, in order. */
export class RunEventsQuery extends Query<RunEventPage> {
  constructor(
    readonly organizationId: string,
    readonly runId: string,
    readonly page: { after: number; limit: number },
  ) {
    super();
  }
}

@QueryHandler(RunEventsQuery)
export class RunEventsHandler implements IQueryHandler<RunEventsQuery, RunEventPage> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ organizationId, runId, page }: RunEventsQuery): Promise<RunEventPage> {
    await assertRunExists(this.pool, organizationId, runId);
    // The start as the domain sees it: its pinned workflow and blocks shown even when stored apart (its `definition` names where).
    const events = await resolveRunDefinitions(this.pool, await this.store.readStream(runStreamId(runId), { fromVersion: page.after + 1, limit: page.limit + 1, organizationId }));
    const data = events.slice(0, page.limit).map(runEventView);
    return { data, next: events.length > page.limit ? String(data.at(-1)?.version) : null };
  }
}
