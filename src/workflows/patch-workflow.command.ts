import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { CONNECTOR_CATALOG } from '../connectors/catalog.token';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { inTransaction } from '../database/pool';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import { apply } from '../domain/workflow/apply-ops';
import type { Principal as Author } from '../domain/workflow/apply-result';
import { MAX_OPS_PER_BATCH } from '../domain/workflow/edit-op.schema';
import { AppError, NotFound } from '../errors';
import { handleCommand, type Loaded } from '../event-store/command-runtime';
import type { EventMetadata } from '../event-store/event';
import { StreamVersionConflict } from '../event-store/errors';
import { EventStore } from '../event-store/event-store';
import { requestHash } from '../http/request-hash';
import { claimIdempotencyKey, recordedAnswer, type IdempotencyScope, type KeyedRequest } from '../idempotency/idempotency-keys';
import { CurrentWorkflows } from './current-workflows';
import { assertVersion } from './if-match';
import { patchResponse, type PatchResponse } from './patch-response';
import { patchEvents, workflowStream, type WorkflowEvent } from './workflow.events';
import { getCurrentWorkflow, type CurrentWorkflow } from './workflow-read-model';
import { workflowAppendHint } from './workflow-append-hint';

/** Conflicting writers are retried this many times before answering 409 `version_conflict`. */
const MAX_ATTEMPTS = 10;

/** A patch's `Idempotency-Key` is scoped to its workflow and remembered for 24 hours. */
function patchKeys(workflowId: string): IdempotencyScope {
  return {
    name: `workflow-patch:${workflowId}`,
    retentionMs: 24 * 60 * 60 * 1000,
    conflictMessage: 'this Idempotency-Key was already used on this workflow with a different body; use a new key',
  };
}

export interface PatchOptions {
  /** The `If-Match` version (NaN: unreadable tag, never matches). */
  ifMatch?: number;
  idempotencyKey?: string;
  dryRun?: boolean;
  /**
   * Most ops the batch may hold: `MAX_OPS_PER_BATCH` for an agent's batch (the default). A
   * revert's ops, derived by the server from two stored versions, pass `Infinity`: the workflows'
   * own size bounds (blocks, connections) bound them.
   */
  maxOps?: number;
}

/** Applies an agent's EditOp batch to a workflow (API.md `POST /api/workflows/:id/operations`). */
export class PatchWorkflowCommand extends Command<PatchResponse> {
  constructor(
    readonly organizationId: string,
    readonly workflowId: string,
    readonly ops: readonly unknown[],
    /** `user` for a signed-in person (may set user-only params), `api_key` otherwise. */
    readonly author: Author,
    readonly options: PatchOptions,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

interface PatchDecision {
  events: WorkflowEvent[];
  response: PatchResponse;
}

/**
 * Load → `apply` (pure) → one append of the batch's events at the loaded stream version, with
 * the Idempotency-Key claimed in the same transaction. A concurrent writer makes the append
 * fail: we reload and apply again (no op is lost; with If-Match the reload answers 412 when the
 * workflow moved on). A recorded key replays its response before anything else is checked, so
 * a retry is answered even after the workflow moved on (or was deleted).
 */
@CommandHandler(PatchWorkflowCommand)
export class PatchWorkflowHandler implements ICommandHandler<PatchWorkflowCommand, PatchResponse> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(CONNECTOR_CATALOG) private readonly catalog: ConnectorCatalog,
    @Inject(CONFIG) private readonly config: Config,
    /** The process's kept versions (see `keptFor`), shared with its run starts. */
    @Inject(CurrentWorkflows) private readonly workflows: CurrentWorkflows,
  ) {}

  async execute(command: PatchWorkflowCommand): Promise<PatchResponse> {
    const { organizationId, workflowId, ops, options } = command;
    const maxOps = options.maxOps ?? MAX_OPS_PER_BATCH;
    if (ops.length > maxOps) {
      throw new AppError('batch_too_large', `a batch holds at most ${maxOps} ops (got ${ops.length}); split it — nothing was applied`, { max: maxOps, received: ops.length });
    }
    const key = options.dryRun ? undefined : options.idempotencyKey;
    const keyed = key === undefined ? undefined : { organizationId, key, requestHash: requestHash({ ops }) };
    const scope = patchKeys(workflowId);
    return handleCommand<CurrentWorkflow, PatchDecision, PatchResponse>(
      {
        load: async () => {
          const recorded = keyed && (await recordedAnswer<PatchResponse>(this.pool, scope, keyed));
          if (recorded) return { answered: recorded };
          const current = this.keptFor(command) ?? (await getCurrentWorkflow(this.pool, organizationId, workflowId));
          if (!current) throw new NotFound('workflow');
          return { state: current, version: current.streamVersion };
        },
        decide: (current) => {
          assertVersion(options.ifMatch, current.version);
          const result = apply(current.workflow, ops, this.catalog, command.author, { templateEnv: this.config.templateEnv });
          return { events: patchEvents(result, current.version), response: patchResponse(result, result.changed ? current.version + 1 : current.version) };
        },
        append: async (loaded, decision) => {
          if (options.dryRun) return decision.response;
          try {
            return await this.commit(command, loaded, decision, keyed);
          } catch (error) {
            // The kept version (if that was it) is stale: the next try reads.
            if (error instanceof StreamVersionConflict) this.workflows.forget(organizationId, workflowId);
            throw error;
          }
        },
      },
      { attempts: MAX_ATTEMPTS },
    );
  }

  /**
   * The workflow as this process's last patch of it left it, while that may still be current: a
   * guess its append checks (the stream version it expects), forgotten when that fails. Not for a
   * dry run, which has no append to check it, nor for an If-Match naming another version, which
   * must be judged against a read.
   */
  private keptFor({ organizationId, workflowId, options }: PatchWorkflowCommand): CurrentWorkflow | undefined {
    if (options.dryRun) return undefined;
    const kept = this.workflows.kept(organizationId, workflowId);
    return kept && (options.ifMatch === undefined || options.ifMatch === kept.version) ? kept : undefined;
  }

  /**
   * The events, and the key in the same transaction; a twin that claimed the key first is answered
   * from its record. Without a key the store commits them, sharing the commit with the appends
   * queued beside it (many agents patching at once). What committed is kept for the next patch.
   */
  private async commit(command: PatchWorkflowCommand, loaded: Loaded<CurrentWorkflow>, { events, response }: PatchDecision, keyed: KeyedRequest | undefined): Promise<PatchResponse> {
    const { organizationId, workflowId, metadata } = command;
    const streamId = workflowStream(workflowId);
    // The trigger read models then know whether there was a trigger to take down (`hadNoTrigger`).
    const hint = workflowAppendHint(streamId, loaded.state.workflow);
    if (!keyed) {
      if (events.length > 0) await this.store.append(streamId, loaded.version, events, { organizationId, metadata, hint });
    } else {
      const twin = await inTransaction(this.pool, async (client) => {
        const claim = await claimIdempotencyKey(client, patchKeys(workflowId), keyed, response);
        if (claim.kind === 'duplicate') return claim.result;
        if (events.length > 0) await this.store.append(streamId, loaded.version, events, { organizationId, metadata, client, hint });
        return undefined;
      });
      if (twin) return twin;
    }
    if (events.length > 0) this.workflows.keep(organizationId, { id: workflowId, version: response.version, workflow: response.workflow, streamVersion: loaded.version + events.length });
    return response;
  }
}
