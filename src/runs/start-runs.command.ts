import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PoolClient } from 'pg';
import type { EventMetadata } from '../event-store/event';
import { requestHash } from '../http/request-hash';
import { claimIdempotencyKeys } from '../idempotency/idempotency-keys';
import { RunStore } from './run-store';
import { RUN_START_KEYS, StartRunHandler, type PinnedWorkflow, type StartedRun } from './start-run.command';

/** One start of a `StartRunsCommand`. */
export interface KeyedRunStart {
  organizationId: string;
  workflowId: string;
  input: unknown;
  metadata: EventMetadata;
  idempotencyKey: string;
  workflow: PinnedWorkflow;
}

/**
 * Many runs of pinned workflows started in the caller's transaction (a scheduler pass's fired
 * ticks), each with its own idempotency key: the same checks and answers as `StartRunCommand`
 * one by one, in one statement for every key and one for every run. A start that cannot start
 * throws, and the caller rolls them all back.
 */
export class StartRunsCommand extends Command<StartedRun[]> {
  constructor(
    readonly starts: readonly KeyedRunStart[],
    readonly client: PoolClient,
  ) {
    super();
  }
}

@CommandHandler(StartRunsCommand)
export class StartRunsHandler implements ICommandHandler<StartRunsCommand, StartedRun[]> {
  constructor(
    @Inject(StartRunHandler) private readonly single: StartRunHandler,
    @Inject(RunStore) private readonly runs: RunStore,
  ) {}

  async execute({ starts, client }: StartRunsCommand): Promise<StartedRun[]> {
    const prepared = starts.map((start) => this.single.prepare(start.organizationId, start.workflowId, start.workflow, start.input ?? {}));
    const keyed = starts.map((start) => ({ organizationId: start.organizationId, key: start.idempotencyKey, requestHash: requestHash({ workflowId: start.workflowId, input: start.input ?? {} }) }));
    const claims = await claimIdempotencyKeys(client, RUN_START_KEYS, keyed, prepared.map((p) => ({ runId: p.started.runId })));
    const fresh = prepared.flatMap((p, i) => (claims[i]!.kind === 'claimed' ? [{ state: p.state, events: p.events, metadata: starts[i]!.metadata }] : []));
    await this.runs.appendNew(client, fresh);
    const answers: StartedRun[] = [];
    for (const [i, claim] of claims.entries()) {
      answers.push(claim.kind === 'duplicate' ? await this.single.earlier(client, claim.result.runId) : this.single.logged(prepared[i]!.started, starts[i]!.workflowId));
    }
    return answers;
  }
}
