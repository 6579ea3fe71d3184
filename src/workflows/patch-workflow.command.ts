import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { CONNECTOR_CATALOG } from '../connectors/catalog.token';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { inTransaction } from '../database/pool';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import { apply } from '../domain/workflow/apply-ops';
import type { ApplyResult, Principal as Author } from '../domain/workflow/apply-result';
import { MAX_OPS_PER_BATCH } from '../domain/workflow/edit-op.schema';
import { AppError, NotFound } from '../errors';
import { StreamVersionConflict } from '../event-store/errors';
import { retryOnConflict } from '../event-store/retry-on-conflict';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { assertVersion } from './if-match';
import { requestHash } from '../http/request-hash';
import { findStoredPatch, IdempotencyRace, replay, storePatch } from './patch-idempotency';
import { patchResponse, type PatchResponse } from './patch-response';
import { patchEvents, workflowStream } from './workflow.events';
import { getCurrentWorkflow, type CurrentWorkflow } from './workflow-read-model';

/** Conflicting writers are retried this many times before answering 409 `version_conflict`. */
const MAX_ATTEMPTS = 10;

export interface PatchOptions {
  /** The `If-Match` version (NaN: unreadable tag, never matches). */
  ifMatch?: number;
  idempotencyKey?: string;
  dryRun?: boolean;
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

/**
 * Load → `apply` (pure) → one append of the batch's events at the loaded stream version,
 * with the Idempotency-Key row in the same transaction. A concurrent writer makes the append
 * fail: we reload and apply again (no op is lost; with If-Match the reload answers 412 when the
 * workflow moved on). A stored key replays its response before anything else is checked.
 */
@CommandHandler(PatchWorkflowCommand)
export class PatchWorkflowHandler implements ICommandHandler<PatchWorkflowCommand, PatchResponse> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(CONNECTOR_CATALOG) private readonly catalog: ConnectorCatalog,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async execute(command: PatchWorkflowCommand): Promise<PatchResponse> {
    const { organizationId, workflowId, ops, options } = command;
    if (ops.length > MAX_OPS_PER_BATCH) {
      throw new AppError('batch_too_large', `a batch holds at most ${MAX_OPS_PER_BATCH} ops (got ${ops.length}); split it — nothing was applied`, { max: MAX_OPS_PER_BATCH, received: ops.length });
    }
    const key = options.dryRun ? undefined : options.idempotencyKey;
    const hash = key === undefined ? '' : requestHash({ ops });
    return retryOnConflict(
      async () => {
        const stored = key === undefined ? undefined : await findStoredPatch(this.pool, organizationId, workflowId, key);
        if (stored) return replay(stored, hash);
        const current = await getCurrentWorkflow(this.pool, organizationId, workflowId);
        if (!current) throw new NotFound('workflow');
        assertVersion(options.ifMatch, current.version);
        const result = apply(current.workflow, ops, this.catalog, command.author, { templateEnv: this.config.templateEnv });
        const response = patchResponse(result, result.changed ? current.version + 1 : current.version);
        if (options.dryRun) return response;
        await this.commit(command, current, result, key === undefined ? undefined : { key, requestHash: hash, response });
        return response;
      },
      // A twin request that stored the same Idempotency-Key first is answered from its record on the retry.
      { attempts: MAX_ATTEMPTS, retryable: (error) => error instanceof StreamVersionConflict || error instanceof IdempotencyRace },
    );
  }

  private async commit(
    command: PatchWorkflowCommand,
    current: CurrentWorkflow,
    result: ApplyResult,
    idempotency: { key: string; requestHash: string; response: PatchResponse } | undefined,
  ): Promise<void> {
    const events = patchEvents(result, current.version);
    if (events.length === 0 && !idempotency) return;
    const { organizationId, workflowId, metadata } = command;
    await inTransaction(this.pool, async (client) => {
      if (events.length > 0) {
        await this.store.append(workflowStream(workflowId), current.streamVersion, events, { organizationId, metadata, client });
      }
      if (idempotency) await storePatch(client, organizationId, workflowId, idempotency.key, idempotency);
    });
  }
}
