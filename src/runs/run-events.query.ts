import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { runStreamId } from '../domain/run/run.events';
import { EventStore } from '../event-store/event-store';
import { STREAM_PAGE_BYTES, type RecordedEvent } from '../event-store/event';
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
    const read = await this.store.readStreamPage(runStreamId(runId), { fromVersion: page.after + 1, limit: page.limit, maxBytes: STREAM_PAGE_BYTES, organizationId });
    const data = (await resolveRunDefinitions(this.pool, read.events)).map(runEventView);
    return { data, next: read.more ? String(data.at(-1)?.version) : null };
  }
}
