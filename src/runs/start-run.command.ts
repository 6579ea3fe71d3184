import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONNECTOR_CATALOG } from '../connectors/catalog.token';
import { CONFIG } from '../database/database.module';
import { inTransaction } from '../database/pool';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import type { SpecLookup } from '../domain/run/block-spec';
import { catalogSpecs } from '../connectors/catalog-specs';
import { startRun } from '../domain/run/run.commands';
import type { RunStatus } from '../domain/run/run.state';
import { validateRunInput } from '../domain/workflow/run-input';
import { validateWorkflow } from '../domain/workflow/validate-workflow';
import type { SerializedWorkflow } from '../domain/workflow/workflow';
import { AppError, NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { getCurrentWorkflow } from '../workflows/workflow-read-model';
import { RunChanges } from './run-changes';
import { RunHandoff } from './run-handoff';
import { RunStore } from './run-store';
import { requestHash } from '../http/request-hash';

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
    readonly options: { idempotencyKey?: string; workflow?: PinnedWorkflow } = {},
  ) {
    super();
  }
}

@CommandHandler(StartRunCommand)
export class StartRunHandler implements ICommandHandler<StartRunCommand, StartedRun> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CONNECTOR_CATALOG) private readonly catalog: ConnectorCatalog,
    @Inject(RunStore) private readonly runs: RunStore,
    @Inject(RunChanges) private readonly changes: RunChanges,
    @Inject(RunHandoff) private readonly handoff: RunHandoff,
  ) {
    this.specs = catalogSpecs(catalog);
  }

  private readonly specs: SpecLookup;

  async execute(command: StartRunCommand): Promise<StartedRun> {
    const { organizationId, workflowId, metadata, options } = command;
    const input = command.input ?? {};
    const pinned = options.workflow ?? (await getCurrentWorkflow(this.pool, organizationId, workflowId));
    if (!pinned) throw new NotFound('workflow');
    const errors = validateWorkflow(pinned.workflow, this.catalog, { templateEnv: this.config.templateEnv });
    if (errors.length > 0) {
      throw new AppError('workflow_not_runnable', `The workflow has ${errors.length} validation error(s); repair it before running`, { validation_errors: errors });
    }
    const inputCheck = validateRunInput(pinned.workflow, input, this.catalog);
    if (!inputCheck.ok) {
      throw new AppError('invalid_input', `The run input does not fit the trigger's input schema: ${inputCheck.issues[0]?.path || '(root)'}: ${inputCheck.issues[0]?.message}`, { issues: inputCheck.issues });
    }
    const runId = randomUUID();
    const events = startRun(
      { runId, organizationId, workflowId, workflowVersion: pinned.version, workflow: pinned.workflow, input, now: new Date() },
      this.specs,
      this.runs.decider.limits,
    );
    const state = this.runs.decider.fold(events);
    const started: StartedRun = { runId, status: state.status, workflowVersion: pinned.version };
    if (!options.idempotencyKey) {
      const status = await this.handoff.tryStart(events[0]!, metadata);
      if (status) return { ...started, status };
      await this.runs.append(state, 0, events, { metadata, notify: true });
      return started;
    }
    const key = options.idempotencyKey;
    const hash = requestHash({ workflowId, input });
    const result = await inTransaction(this.pool, async (client) => {
      const inserted = await client.query(
        `INSERT INTO run_start_keys (organization_id, idempotency_key, request_hash, run_id)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [organizationId, key, hash, runId],
      );
      if (inserted.rowCount === 0) return this.earlier(client, organizationId, key, hash);
      await this.runs.append(state, 0, events, { metadata, notify: true, client });
      return started;
    });
    if (!result.duplicate) this.changes.emit(runId, { version: 1, ended: false });
    return result;
  }

  private async earlier(db: Pick<Pool, 'query'>, organizationId: string, key: string, hash: string): Promise<StartedRun> {
    const { rows } = await db.query<{ request_hash: string; run_id: string; status: RunStatus | null; workflow_version: number | null }>(
      `SELECT k.request_hash, k.run_id, s.status, s.workflow_version
       FROM run_start_keys k LEFT JOIN run_state s ON s.run_id = k.run_id
       WHERE k.organization_id = $1 AND k.idempotency_key = $2`,
      [organizationId, key],
    );
    const row = rows[0];
    if (!row || row.request_hash !== hash) {
      throw new AppError('idempotency_conflict', 'This idempotency key was already used to start a run with a different body');
    }
    return { runId: row.run_id, status: row.status ?? 'queued', workflowVersion: row.workflow_version ?? 0, duplicate: true };
  }
}
