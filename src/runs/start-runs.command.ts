import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PoolClient } from 'pg';
import { AppError } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { requestHash } from '../http/request-hash';
import { claimIdempotencyKeys, type Claim } from '../idempotency/idempotency-keys';
import type { CurrentWorkflow } from '../workflows/workflow-read-model';
import { RunStore } from './run-store';
import { RUN_START_KEYS, StartRunHandler, type PinnedWorkflow, type StartedRun } from './start-run.command';

/** One start of a `StartRunsCommand`. */
export interface RunStartRequest {
  organizationId: string;
  workflowId: string;
  input: unknown;
  metadata: EventMetadata;
  /** As `StartRunOptions.idempotencyKey` (kept forever); the keys of one command must differ. */
  idempotencyKey?: string;
  /** The version to pin; else the workflow's current one (a cached version is checked at the write). */
  workflow?: PinnedWorkflow;
}

/**
 * Many run starts in the caller's transaction (a scheduler pass's fired ticks, a group of webhook
 * deliveries): the same checks and answers as `StartRunCommand` one by one, in one statement for
 * every idempotency key and one for every run. A start refused on a fresh read of its workflow
 * (not found, not runnable, an input that does not fit) answers its error and records nothing;
 * a refusal by a cached version, or a cached version that moved, throws: the caller rolls back
 * and starts them one by one, each then decided on a fresh read.
 */
export class StartRunsCommand extends Command<(StartedRun | AppError)[]> {
  constructor(
    readonly starts: readonly RunStartRequest[],
    readonly client: PoolClient,
  ) {
    super();
  }
}

/** A start's refusal as its answer; anything but a refusal is thrown. */
function refusal(error: unknown): AppError {
  if (error instanceof AppError) return error;
  throw error;
}

@CommandHandler(StartRunsCommand)
export class StartRunsHandler implements ICommandHandler<StartRunsCommand, (StartedRun | AppError)[]> {
  constructor(
    @Inject(StartRunHandler) private readonly single: StartRunHandler,
    @Inject(RunStore) private readonly runs: RunStore,
  ) {}

  async execute({ starts, client }: StartRunsCommand): Promise<(StartedRun | AppError)[]> {
    // One read per workflow, whatever the number of its starts.
    const current = new Map<string, Promise<{ pinned: CurrentWorkflow; cached: boolean }>>();
    const workflowOf = (start: RunStartRequest) => {
      const key = `${start.organizationId}/${start.workflowId}`;
      const found = current.get(key) ?? this.single.currentPinned(client, start.organizationId, start.workflowId);
      current.set(key, found);
      return found;
    };
    const pins = await Promise.all(starts.map((start) => (start.workflow ? { pinned: start.workflow, cached: false } : workflowOf(start).catch(refusal))));
    const decided = starts.map((start, i) => {
      const pin = pins[i]!;
      if (pin instanceof AppError) return pin;
      try {
        return this.single.prepare(start.organizationId, start.workflowId, pin.pinned, start.input ?? {});
      } catch (error) {
        // A cached version's refusal is not final (a fresh read may accept): the caller starts again one by one.
        if (pin.cached) throw error;
        return refusal(error);
      }
    });
    const prepared = decided.map((d) => (d instanceof AppError ? undefined : d));
    const live = (i: number) => prepared[i] !== undefined;

    const keyed = starts.flatMap((start, i) => (start.idempotencyKey && live(i) ? [i] : []));
    const keyClaims = await claimIdempotencyKeys(
      client,
      RUN_START_KEYS,
      keyed.map((i) => ({ organizationId: starts[i]!.organizationId, key: starts[i]!.idempotencyKey!, requestHash: requestHash({ workflowId: starts[i]!.workflowId, input: starts[i]!.input ?? {} }) })),
      keyed.map((i) => ({ runId: prepared[i]!.started.runId })),
    );
    const claims = new Map<number, Claim<{ runId: string }>>(keyed.map((i, k) => [i, keyClaims[k]!]));
    const fresh = starts.flatMap((_, i) => (live(i) && claims.get(i)?.kind !== 'duplicate' ? [i] : []));
    await this.runs.appendNew(
      client,
      fresh.map((i) => ({ state: prepared[i]!.state, events: prepared[i]!.events, metadata: starts[i]!.metadata, checkWorkflow: (pins[i] as { cached: boolean }).cached })),
    );
    for (const i of fresh) {
      const pin = pins[i] as { pinned: CurrentWorkflow; cached: boolean };
      if (!starts[i]!.workflow && !pin.cached) this.single.keep(starts[i]!.organizationId, pin.pinned);
    }

    const answers: (StartedRun | AppError)[] = [];
    for (const [i, start] of starts.entries()) {
      const claim = claims.get(i);
      const decision = decided[i]!;
      if (decision instanceof AppError) answers.push(decision);
      else answers.push(claim?.kind === 'duplicate' ? await this.single.earlier(client, claim.result.runId) : this.single.logged(decision.started, start.workflowId));
    }
    return answers;
  }
}
