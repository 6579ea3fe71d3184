import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { RunState } from '../domain/run/run.state';
import { runDeadline } from '../domain/run/run.decide';
import { runView, type RunView } from '../domain/run/run.view';
import { NotFound } from '../errors';
import { RunReads } from './run-reads';

/** `GET /api/runs/:id`. */
export interface RunDetails extends RunView {
  id: string;
  workflowId: string;
  workflowVersion: number;
  input: unknown;
  createdAt: string;
  /** The run this one reruns, else null. */
  rerunOf: string | null;
  /** A delayed start's instant (`startAt` of the start), else null. */
  startAt: string | null;
  /** When the run times out (its workflow's `timeoutMs` after its start), else null. */
  deadline: string | null;
  /** The concurrency line the run queues in (its workflow's `metadata.concurrency`), and whether it holds a place; null without one. */
  concurrency: { key: string; limit: number; admitted: boolean } | null;
}

/** A run as the API shows it, folded from its stream (`RunReads`; 404 for another organization's run). */
export class GetRunQuery extends Query<RunDetails> {
  constructor(
    readonly organizationId: string,
    readonly runId: string,
  ) {
    super();
  }
}

@QueryHandler(GetRunQuery)
export class GetRunHandler implements IQueryHandler<GetRunQuery, RunDetails> {
  constructor(@Inject(RunReads) private readonly runs: RunReads) {}

  async execute({ organizationId, runId }: GetRunQuery): Promise<RunDetails> {
    const state = await this.runs.read(runId, organizationId);
    if (!state?.run) throw new NotFound('run');
    return runDetails(runId, state);
  }
}

/** The API's view of a started run's state. */
export function runDetails(runId: string, state: RunState): RunDetails {
  const run = state.run!;
  return {
    id: runId,
    workflowId: run.workflowId,
    workflowVersion: run.workflowVersion,
    input: run.input,
    // One clock for a run's times: its start as `RunStarted` stamped it (see `RunStore.load`).
    createdAt: new Date(run.startedAt).toISOString(),
    rerunOf: run.rerunOf ?? null,
    startAt: run.startAt ?? null,
    deadline: runDeadline(run) ?? null,
    concurrency: run.concurrency ? { ...run.concurrency, admitted: state.admitted } : null,
    ...runView(state),
  };
}
