import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { NotFound } from '../errors';
import { STREAM_PAGE_BYTES, type Actor, type RecordedEvent } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { workflowStream } from './workflow.events';
import { getCurrentWorkflow } from './workflow-read-model';

/** One event of a workflow's stream, as the history shows it. */
export interface HistoryEntry {
  /** Position in the workflow's stream (the history cursor). */
  streamVersion: number;
  type: string;
  /** The workflow version the event's batch resulted in. */
  version: number | null;
  actor: Actor;
  /** The `X-Thodare-Agent` label the client sent, if any. */
  agent: string | null;
  requestId: string | null;
  recordedAt: Date;
  /** The event's data; the full workflow JSON is left out (GET …/versions/:version has it). */
  data: Record<string, unknown>;
}

export interface HistoryPage {
  data: HistoryEntry[];
  next: string | null;
}

/** Every event of a live workflow's stream: applied and skipped ops, version bumps, who and when. */
export class WorkflowHistoryQuery extends Query<HistoryPage> {
  constructor(
    readonly organizationId: string,
    readonly workflowId: string,
    /** Stream version the previous page ended at. */
    readonly after: number,
    readonly limit: number,
  ) {
    super();
  }
}

@QueryHandler(WorkflowHistoryQuery)
export class WorkflowHistoryHandler implements IQueryHandler<WorkflowHistoryQuery, HistoryPage> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ organizationId, workflowId, after, limit }: WorkflowHistoryQuery): Promise<HistoryPage> {
    if (!(await getCurrentWorkflow(this.pool, organizationId, workflowId))) throw new NotFound('workflow');
    const read = await this.store.readStreamPage(workflowStream(workflowId), { fromVersion: after + 1, limit, maxBytes: STREAM_PAGE_BYTES, organizationId });
    const last = read.events.at(-1);
    return { data: read.events.map(historyEntry), next: read.more && last ? String(last.streamVersion) : null };
  }
}

function historyEntry(event: RecordedEvent): HistoryEntry {
  const { workflow: _workflow, ...data } = (event.data ?? {}) as Record<string, unknown>;
  return {
    streamVersion: event.streamVersion,
    type: event.type,
    version: typeof data.version === 'number' ? data.version : null,
    actor: event.metadata.actor,
    agent: event.metadata.agent ?? null,
    requestId: event.metadata.requestId ?? null,
    recordedAt: event.recordedAt,
    data,
  };
}
