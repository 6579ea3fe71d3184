import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { CONNECTOR_CATALOG } from '../connectors/catalog.token';
import { catalogSpecs } from '../connectors/catalog-specs';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import { pinBlocks } from '../domain/run/block-pins';
import type { SpecLookup } from '../domain/run/block-spec';
import { startRun } from '../domain/run/run.commands';
import type { RerunPoint, RunRerun, RunStarted } from '../domain/run/run.events';
import { assertRerunnable, rerunOf } from '../domain/run/run.rerun';
import type { RunState } from '../domain/run/run.state';
import { AppError, NotFound } from '../errors';
import { requestHash } from '../http/request-hash';
import { getCurrentWorkflow } from '../workflows/workflow-read-model';
import type { EventMetadata } from '../event-store/event';
import { timeOrderedId } from '../event-store/ids';
import { definitionDigest } from '../run-queue/run-definitions';
import { RunReads } from './run-reads';
import { RunStore } from './run-store';
import { StartRunHandler, type StartedRun } from './start-run.command';

/** Which version a rerun runs: the one the run pinned, or the one the workflow has now (after a repair). */
export type RerunVersion = 'pinned' | 'current';

/** The answer to a rerun: the new run, the one it reruns, and the blocks whose outputs it takes from it. */
export interface RerunStarted extends StartedRun {
  rerunOf: string;
  reusedBlocks: string[];
}

/**
 * Starts a new run of an ended run's input (`POST /api/runs/:id/rerun`), on the version the run
 * pinned or, after a repair, on the workflow's current one (checked as a start is). From
 * `failure` it takes the outputs of what succeeded before the failure instead of running those
 * blocks again (see `rerunOf`); from a block, the outputs of what is not downstream of it; from
 * `start` it runs everything. The run rerun is left as it
 * was: its history stays whole, and the new run names it (`rerunOf`). An idempotency key
 * works as for a start (the same key and request answer the same run). 404 for another
 * organization's run, 404 `workflow_not_found` once its workflow was deleted (like a start),
 * 409 `run_not_ended` while it runs, 409 `run_not_failed` for a rerun from the failure of a run
 * that completed, 422 `block_not_found` for a block the rerun's version does not have.
 */
export class RerunRunCommand extends Command<RerunStarted> {
  constructor(
    readonly organizationId: string,
    readonly runId: string,
    readonly request: { point: RerunPoint; workflowVersion: RerunVersion; idempotencyKey?: string },
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(RerunRunCommand)
export class RerunRunHandler implements ICommandHandler<RerunRunCommand, RerunStarted> {
  private readonly specs: SpecLookup;

  constructor(
    @Inject(RunStore) private readonly runs: RunStore,
    @Inject(RunReads) private readonly reads: RunReads,
    @Inject(StartRunHandler) private readonly starts: StartRunHandler,
    @Inject(CONNECTOR_CATALOG) catalog: ConnectorCatalog,
    @Inject(Pool) private readonly pool: Pool,
  ) {
    this.specs = catalogSpecs(catalog);
  }

  async execute({ organizationId, runId, request, metadata }: RerunRunCommand): Promise<RerunStarted> {
    const { point, workflowVersion: version, idempotencyKey } = request;
    // The run as readers see it (kept on this instance once read: a run of thousands of events is
    // not folded whole again to be rerun), and its start, read alone: what the rerun starts from.
    const state = await this.reads.read(runId, organizationId);
    if (!state?.run) throw new NotFound('run');
    // Refused before anything else: a run that has not ended, a failure to rerun from.
    assertRerunnable(state, point);
    const started = await this.runs.started(runId, organizationId);
    if (!started) throw new NotFound('run');
    const { workflowId, input } = started;
    // A deleted workflow starts no more runs, reruns included (a deletion racing this check may lose).
    const current = await getCurrentWorkflow(this.pool, organizationId, workflowId);
    if (!current) throw new AppError('workflow_not_found', `workflow ${workflowId} not found`);
    // The rerun's part is decided against the graph it runs: the run's own, or the current version's.
    const prepared =
      version === 'current' ? this.starts.prepare(organizationId, workflowId, current, input, { rerun: (graph) => rerunOf(state, point, graph) }) : this.pinnedRerun(started, rerunOf(state, point));
    const reused = Object.keys(prepared.events[0]!.data.rerun?.reuse ?? {});
    const keyed = idempotencyKey ? { organizationId, key: idempotencyKey, requestHash: requestHash({ rerunOf: runId, ...point, version }) } : undefined;
    const rerun = await this.starts.record(prepared, workflowId, metadata, keyed ? { keyed } : {});
    return { ...rerun, rerunOf: runId, reusedBlocks: reused };
  }

  /**
   * The start of a rerun of the version the run pinned, exactly: its blocks as pinned then (a
   * stream from before pins were recorded gets today's), under the digest of that content. Not
   * validated again: the run started, so that version could.
   */
  private pinnedRerun(original: RunStarted['data'], rerun: RunRerun): { started: StartedRun; state: RunState; events: RunStarted[] } {
    const { organizationId, workflowId, workflowVersion, workflow, input } = original;
    const blocks = original.blocks ?? pinBlocks(workflow, this.specs);
    const definition = definitionDigest({ organizationId, workflowId, workflowVersion, workflow, blocks });
    const runId = timeOrderedId();
    const events = startRun({ runId, organizationId, workflowId, workflowVersion, workflow, blocks, definition, input, rerun, now: new Date() }, this.specs, this.runs.decider.limits);
    const state = this.runs.decider.fold(events);
    return { started: { runId, status: state.status, workflowVersion }, state, events };
  }
}
