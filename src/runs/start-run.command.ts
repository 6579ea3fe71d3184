import { Inject, Logger } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool, type PoolClient } from 'pg';
import type { Config } from '../config/config';
import { CONNECTOR_CATALOG } from '../connectors/catalog.token';
import { CONFIG } from '../database/database.module';
import { inTransaction } from '../database/pool';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import type { SpecLookup } from '../domain/run/block-spec';
import { catalogSpecs } from '../connectors/catalog-specs';
import { pinBlocks } from '../domain/run/block-pins';
import { buildRunGraph, type RunGraph } from '../domain/run/run-graph';
import type { RunDefinition } from '../domain/run/run-definition';
import { startRun } from '../domain/run/run.commands';
import type { RunState, RunStatus } from '../domain/run/run.state';
import type { RunRerun, RunStarted } from '../domain/run/run.events';
import { validateRunInput } from '../domain/workflow/run-input';
import { validateWorkflow } from '../domain/workflow/validate-workflow';
import type { SerializedWorkflow } from '../domain/workflow/workflow';
import type { ValidationError } from '../domain/workflow/validation-error';
import { AppError, NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { getCurrentWorkflow, type CurrentWorkflow } from '../workflows/workflow-read-model';
import type { Queryable } from '../event-store/projection';
import { CurrentWorkflows } from '../workflows/current-workflows';
import { RunChanges } from './run-changes';
import { RunHandoff } from './run-handoff';
import { RunStore } from './run-store';
import { requestHash } from '../http/request-hash';
import { runHeadOf } from '../run-queue/run-state.queries';
import { WorkflowMoved } from '../run-queue/run-append';
import { definitionDigest } from '../run-queue/run-definitions';
import { claimIdempotencyKey, type IdempotencyScope, type KeyedRequest } from '../idempotency/idempotency-keys';
import { timeOrderedId } from '../event-store/ids';

/** A workflow's definition as its runs name it (`run-definition.ts`). */
type PinnedDefinition = RunDefinition & { digest: string };

/** The answer to a run start. */
export interface StartedRun {
  runId: string;
  status: RunStatus;
  workflowVersion: number;
  /** An earlier start with the same idempotency key and body answered this run. */
  duplicate?: boolean;
}

/** The workflow to pin when the caller already has it (tests, embedding code). */
export interface PinnedWorkflow {
  version: number;
  workflow: SerializedWorkflow;
}

export interface StartRunOptions {
  idempotencyKey?: string;
  /** A delayed start (see `RunStarted.startAt`): the run is recorded now and begins then. */
  startAt?: Date;
  workflow?: PinnedWorkflow;
  /**
   * Join the caller's transaction (a schedule's tick claim, a webhook delivery): the run starts
   * if and only if the caller commits. Workers are notified on that commit; in-process waiters
   * are not told (nobody waits on such a run in this request).
   */
  client?: PoolClient;
}

/**
 * Starts a run of the organization's workflow: pins its current JSON and version in `RunStarted`
 * (later patches never reach the run), after checking that it is runnable (422
 * `workflow_not_runnable`) and that the input fits the trigger's schema (400 `invalid_input`).
 * An idempotency key is scoped to the organization: same key and body → the same run; another
 * body → 409 `idempotency_conflict`. Notifies, so a worker claims the run at once.
 */
export class StartRunCommand extends Command<StartedRun> {
  constructor(
    readonly organizationId: string,
    readonly workflowId: string,
    readonly input: unknown,
    readonly metadata: EventMetadata,
    readonly options: StartRunOptions = {},
  ) {
    super();
  }
}

/** Run-start keys are scoped to the organization and kept forever. */
export const RUN_START_KEYS: IdempotencyScope = {
  name: 'run-start',
  retentionMs: null,
  conflictMessage: 'This idempotency key was already used to start a run with a different body',
};

/** Refusals that depend on the workflow's version (a newer one may accept the same start). */
const WORKFLOW_REFUSALS = new Set(['workflow_not_runnable', 'invalid_input']);

@CommandHandler(StartRunCommand)
export class StartRunHandler implements ICommandHandler<StartRunCommand, StartedRun> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CONNECTOR_CATALOG) private readonly catalog: ConnectorCatalog,
    @Inject(RunStore) private readonly runs: RunStore,
    @Inject(RunChanges) private readonly changes: RunChanges,
    @Inject(RunHandoff) private readonly handoff: RunHandoff,
    @Inject(CurrentWorkflows) private readonly workflows: CurrentWorkflows,
  ) {
    this.specs = catalogSpecs(catalog);
  }

  private readonly specs: SpecLookup;
  private readonly log = new Logger('runs');
  private readonly validations = new WeakMap<SerializedWorkflow, ValidationError[]>();
  private readonly definitions = new WeakMap<SerializedWorkflow, PinnedDefinition>();

  async execute(command: StartRunCommand): Promise<StartedRun> {
    const { organizationId, workflowId, options } = command;
    if (options.workflow) return this.startPinned(command, options.workflow, false);
    // In the caller's transaction when there is one: a second pool connection per start would let
    // concurrent callers (webhook deliveries) hold every connection while each waits for one more.
    const db = options.client ?? this.pool;
    // A kept version may only succeed: when its workflow moved, or it refuses the start, the start
    // is decided again on a fresh read. A caller's transaction that claimed an idempotency key
    // could not take the claim back to try again: that start always reads afresh.
    const cacheable = !(options.client && options.idempotencyKey);
    const kept = cacheable ? this.workflows.kept(organizationId, workflowId) : undefined;
    if (kept) {
      try {
        return await this.startPinned(command, kept, true);
      } catch (error) {
        const refusedByWorkflow = error instanceof AppError && WORKFLOW_REFUSALS.has(error.code);
        if (!(error instanceof WorkflowMoved) && !refusedByWorkflow) throw error;
        this.workflows.forget(organizationId, workflowId);
      }
    }
    const current = await this.freshWorkflow(db, organizationId, workflowId);
    const started = await this.startPinned(command, current, false);
    if (cacheable) this.workflows.keep(organizationId, current);
    return started;
  }

  /**
   * The workflow a start that pins none runs (shared with `StartRunsHandler`): the kept version
   * (`cached`: its write must check that it is still current) or a fresh read on `db` (always
   * when `fresh`).
   */
  async currentPinned(db: Queryable, organizationId: string, workflowId: string, { fresh = false } = {}): Promise<{ pinned: CurrentWorkflow; cached: boolean }> {
    const kept = fresh ? undefined : this.workflows.kept(organizationId, workflowId);
    return kept ? { pinned: kept, cached: true } : { pinned: await this.freshWorkflow(db, organizationId, workflowId), cached: false };
  }

  private async freshWorkflow(db: Queryable, organizationId: string, workflowId: string): Promise<CurrentWorkflow> {
    const current = await getCurrentWorkflow(db, organizationId, workflowId);
    if (!current) throw new NotFound('workflow');
    return current;
  }

  /** A freshly read version a start just wrote a run of: later starts pin it without a read (see `CurrentWorkflows`). */
  keep(organizationId: string, workflow: CurrentWorkflow): void {
    this.workflows.keep(organizationId, workflow);
  }

  /** Drops a kept version that refused a start (see `CurrentWorkflows`). */
  forget(organizationId: string, workflowId: string): void {
    this.workflows.forget(organizationId, workflowId);
  }

  /**
   * Starts a run of `pinned`. `checkWorkflow`: it came from the cache, so the run is written only
   * while its version is still current (else `WorkflowMoved`, nothing written).
   */
  private async startPinned(command: StartRunCommand, pinned: PinnedWorkflow, checkWorkflow: boolean): Promise<StartedRun> {
    const { organizationId, workflowId, metadata, options } = command;
    const input = command.input ?? {};
    const startAt = options.startAt?.toISOString();
    const prepared = this.prepare(organizationId, workflowId, pinned, input, startAt ? { startAt } : {});
    const keyed = options.idempotencyKey ? { organizationId, key: options.idempotencyKey, requestHash: requestHash({ workflowId, input, ...(startAt ? { startAt } : {}) }) } : undefined;
    if (!options.client) return this.record(prepared, workflowId, metadata, { checkWorkflow, ...(keyed ? { keyed } : {}) });
    const { started, state, events } = prepared;
    const result = await this.recordIn(options.client, started, keyed, () => this.runs.append(state, 0, events, { metadata, notify: true, client: options.client, checkWorkflow }));
    return result.duplicate ? result : this.logged(result, workflowId, metadata);
  }

  /**
   * Records a prepared start in a transaction of its own. With an idempotency key (`keyed`), the
   * key is claimed in the same transaction, and an earlier start with it answers instead; without
   * one, this process's worker takes the run at once when it has a free slot (see `RunHandoff`),
   * else it is queued for any worker. `checkWorkflow`: see `startPinned`.
   */
  async record(
    prepared: { started: StartedRun; state: RunState; events: RunStarted[] },
    workflowId: string,
    metadata: EventMetadata,
    options: { checkWorkflow?: boolean; keyed?: KeyedRequest } = {},
  ): Promise<StartedRun> {
    const { started, state, events } = prepared;
    const checkWorkflow = options.checkWorkflow ?? false;
    if (!options.keyed) {
      const status = await this.handoff.tryStart(events[0]!, metadata, checkWorkflow);
      if (status) return this.logged({ ...started, status }, workflowId, metadata);
      await this.runs.append(state, 0, events, { metadata, notify: true, checkWorkflow });
      return this.logged(started, workflowId, metadata);
    }
    const keyed = options.keyed;
    const result = await inTransaction(this.pool, (client) => this.recordIn(client, started, keyed, () => this.runs.append(state, 0, events, { metadata, notify: true, client, checkWorkflow })));
    if (result.duplicate) return result;
    this.changes.emit(started.runId, { version: 1, ended: false });
    return this.logged(result, workflowId, metadata);
  }

  /**
   * A start of `pinned`, decided but not recorded: 422 `workflow_not_runnable` or 400
   * `invalid_input` when it cannot start (shared with `StartRunsHandler` and reruns). `rerun`: a
   * rerun's part (see `RunRerun`), decided once the version's graph is known; `startAt`: a
   * delayed start.
   */
  prepare(
    organizationId: string,
    workflowId: string,
    pinned: PinnedWorkflow,
    input: unknown,
    options: { rerun?: (graph: RunGraph) => RunRerun; startAt?: string } = {},
  ): { started: StartedRun; state: RunState; events: RunStarted[] } {
    const { rerun, startAt } = options;
    const errors = this.validationOf(pinned.workflow);
    if (errors.length > 0) {
      throw new AppError('workflow_not_runnable', `The workflow has ${errors.length} validation error(s); repair it before running`, { validation_errors: errors });
    }
    const inputCheck = validateRunInput(pinned.workflow, input, this.catalog);
    if (!inputCheck.ok) {
      throw new AppError('invalid_input', `The run input does not fit the trigger's input schema: ${inputCheck.issues[0]?.path || '(root)'}: ${inputCheck.issues[0]?.message}`, { issues: inputCheck.issues });
    }
    const runId = timeOrderedId();
    const { blocks, digest } = this.pinnedDefinition(organizationId, workflowId, pinned);
    const rerunPart = rerun ? { rerun: rerun(buildRunGraph(pinned.workflow, blocks)) } : {};
    const events = startRun(
      { runId, organizationId, workflowId, workflowVersion: pinned.version, workflow: pinned.workflow, blocks, definition: digest, input, ...(startAt ? { startAt } : {}), ...rerunPart, now: new Date() },
      this.specs,
      this.runs.decider.limits,
    );
    const state = this.runs.decider.fold(events);
    return { started: { runId, status: state.status, workflowVersion: pinned.version }, state, events };
  }

  /** In `client`'s transaction: claims the key (an earlier start with it answers instead), then records the start. */
  private async recordIn(client: PoolClient, started: StartedRun, keyed: KeyedRequest | undefined, append: () => Promise<void>): Promise<StartedRun> {
    if (keyed) {
      const claim = await claimIdempotencyKey(client, RUN_START_KEYS, keyed, { runId: started.runId });
      if (claim.kind === 'duplicate') return this.earlier(client, claim.result.runId);
    }
    await append();
    return started;
  }

  /**
   * The workflow's validation errors, computed once per workflow object: a caller that starts
   * many runs of one pinned workflow (a scheduler pass) pays for one validation, not one per run.
   * The catalog and settings never change in a process, and a pinned workflow is never mutated.
   */
  private validationOf(workflow: SerializedWorkflow): ValidationError[] {
    let errors = this.validations.get(workflow);
    if (!errors) {
      errors = validateWorkflow(workflow, this.catalog, { templateEnv: this.config.templateEnv });
      this.validations.set(workflow, errors);
    }
    return errors;
  }

  /**
   * The pins and the definition's digest of `pinned`, computed once per workflow object like its
   * validation (and for the same reasons): every run of it pins the same blocks, so a start costs
   * neither `pinBlocks` nor a hash of the workflow.
   */
  private pinnedDefinition(organizationId: string, workflowId: string, pinned: PinnedWorkflow): PinnedDefinition {
    const known = this.definitions.get(pinned.workflow);
    if (known && known.organizationId === organizationId && known.workflowId === workflowId && known.workflowVersion === pinned.version) return known;
    const blocks = pinBlocks(pinned.workflow, this.specs);
    const definition = { organizationId, workflowId, workflowVersion: pinned.version, workflow: pinned.workflow, blocks };
    const entry = { ...definition, digest: definitionDigest(definition) };
    this.definitions.set(pinned.workflow, entry);
    return entry;
  }

  /** The one line per run start, once it is recorded (its end is logged by the worker): ids and status, never the input. */
  logged(started: StartedRun, workflowId: string, metadata: EventMetadata): StartedRun {
    const { runId, workflowVersion, status } = started;
    // The request that started it, when one did: log lines carry no request context of their own (`AppLogger`).
    this.log.log({ runId, workflowId, workflowVersion, status, ...(metadata.requestId ? { requestId: metadata.requestId } : {}) }, 'run started');
    return started;
  }

  /** The run an earlier start with the same key and body created, as it is now. */
  async earlier(db: Pick<Pool, 'query'>, runId: string): Promise<StartedRun> {
    const head = await runHeadOf(db, runId);
    return { runId, status: head?.status ?? 'queued', workflowVersion: head?.workflowVersion ?? 0, duplicate: true };
  }
}
