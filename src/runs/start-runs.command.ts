import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PoolClient } from 'pg';
import type { TransactionEnd } from '../database/pool';
import type { RunStarted } from '../domain/run/run.events';
import { AppError } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { requestHash } from '../http/request-hash';
import { claimIdempotencyKeys } from '../idempotency/idempotency-keys';
import type { CurrentWorkflow } from '../workflows/workflow-read-model';
import { RunChanges } from './run-changes';
import { RunHandoff, type ReservedStart } from './run-handoff';
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
 * a cached version that moved throws at the write: the caller rolls back and starts them one by
 * one, each then decided on a fresh read.
 */
export class StartRunsCommand extends Command<(StartedRun | AppError)[]> {
  /**
   * `end`: the caller's transaction's end hooks (see `inTransaction`). Given, this process's
   * worker takes the runs it has free slots for at their start, leased in the same commit and
   * run once it is done (`RunHandoff.reserve`): no NOTIFY round trip, claim or re-read for them.
   */
  constructor(
    readonly starts: readonly RunStartRequest[],
    readonly client: PoolClient,
    readonly end?: TransactionEnd,
  ) {
    super();
  }
}

/** A start's refusal as its answer; anything but a refusal is thrown. */
function refusal(error: unknown): AppError {
  if (error instanceof AppError) return error;
  throw error;
}

/** A start's workflow: kept by this process (`cached`) or read. */
type Pin = { pinned: CurrentWorkflow | PinnedWorkflow; cached: boolean };

/** One start, decided: refused, or ready to record (`cached`: its version came from the cache). */
type Decision = AppError | (ReturnType<StartRunHandler['prepare']> & { workflow: CurrentWorkflow | PinnedWorkflow; cached: boolean });

@CommandHandler(StartRunsCommand)
export class StartRunsHandler implements ICommandHandler<StartRunsCommand, (StartedRun | AppError)[]> {
  constructor(
    @Inject(StartRunHandler) private readonly single: StartRunHandler,
    @Inject(RunStore) private readonly runs: RunStore,
    @Inject(RunHandoff) private readonly handoff: RunHandoff,
    @Inject(RunChanges) private readonly changes: RunChanges,
  ) {}

  async execute({ starts, client, end }: StartRunsCommand): Promise<(StartedRun | AppError)[]> {
    const decisions = await this.decide(starts, client);
    const ready = starts.flatMap((start, i) => {
      const decision = decisions[i]!;
      return decision instanceof AppError ? [] : [{ start, decision }];
    });
    const keyed = ready.filter(({ start }) => start.idempotencyKey !== undefined);
    const keyClaims = await claimIdempotencyKeys(
      client,
      RUN_START_KEYS,
      keyed.map(({ start }) => ({ organizationId: start.organizationId, key: start.idempotencyKey!, requestHash: requestHash({ workflowId: start.workflowId, input: start.input ?? {} }) })),
      keyed.map(({ decision }) => ({ runId: decision.started.runId })),
    );
    const earlier = new Map(keyed.flatMap(({ decision }, k) => {
      const claim = keyClaims[k]!;
      return claim.kind === 'duplicate' ? [[decision.started.runId, claim.result.runId] as const] : [];
    }));
    const fresh = ready.filter(({ decision }) => !earlier.has(decision.started.runId));
    const reserved = end ? await this.reserve(fresh.map(({ decision }) => decision.events[0]!), end) : [];
    await this.runs.appendNew(
      client,
      fresh.map(({ start, decision }, i) => {
        const local = reserved[i];
        const written = local ? { state: local.state, events: local.events, ...(local.release ? { release: true } : { lease: local.lease }) } : { state: decision.state, events: decision.events };
        return { ...written, metadata: start.metadata, checkWorkflow: decision.cached };
      }),
    );
    for (const { start, decision } of fresh) {
      if (!start.workflow && !decision.cached) this.single.keep(start.organizationId, decision.workflow as CurrentWorkflow);
    }
    const answers: (StartedRun | AppError)[] = [];
    for (const [i, start] of starts.entries()) {
      const decision = decisions[i]!;
      if (decision instanceof AppError) answers.push(decision);
      else {
        const runId = earlier.get(decision.started.runId);
        answers.push(runId ? await this.single.earlier(client, runId) : this.single.logged(decision.started, start.workflowId, start.metadata));
      }
    }
    return answers;
  }

  /**
   * The worker's reservations for as many of these new runs as it has free slots: run once the
   * transaction commits (this process hears their start in process: `RunStore.appendNew`), or
   * forgotten if it does not.
   */
  private async reserve(started: readonly RunStarted[], end: TransactionEnd): Promise<ReservedStart[]> {
    const reserved: ReservedStart[] = [];
    end.onCommit(() => {
      for (const local of reserved) {
        try {
          this.changes.emit(local.state.run!.runId, { version: local.state.version, ended: local.state.outcome !== undefined });
          local.launch();
        } catch {
          // Committed all the same (the caller must not hear otherwise): the run's lease lapses
          // and a worker claims it.
          local.abandon();
        }
      }
    });
    end.onFailure(() => reserved.forEach((local) => local.abandon()));
    for (const run of started) {
      const local = await this.handoff.reserve(run);
      if (!local) break; // no free slot: the rest go through the queue
      reserved.push(local);
    }
    return reserved;
  }

  /**
   * Each start's workflow (one read per workflow, whatever the number of its starts) and its
   * checks. A kept version's refusal is not final (a patch in another process may have repaired
   * the workflow): those starts are decided again on one fresh read of their workflow, so a
   * refusal never sends the rest of a group one by one.
   */
  private async decide(starts: readonly RunStartRequest[], client: PoolClient): Promise<Decision[]> {
    // One read at a time: a client runs one query at a time, and pg 9 refuses one sent meanwhile
    // (pg 8 queued it, with a deprecation warning).
    const reads = new Map<string, Pin | AppError>();
    const read = async (start: RunStartRequest, fresh: boolean) => {
      const key = `${fresh ? 'fresh' : 'kept'}/${start.organizationId}/${start.workflowId}`;
      let found = reads.get(key);
      if (!found) reads.set(key, (found = await this.single.currentPinned(client, start.organizationId, start.workflowId, { fresh }).catch(refusal)));
      return found;
    };
    const decisions: Decision[] = [];
    for (const start of starts) {
      if (start.workflow) {
        decisions.push(this.check(start, { pinned: start.workflow, cached: false }));
        continue;
      }
      const pin = await read(start, false);
      const decision = this.check(start, pin);
      if (decision instanceof AppError && !(pin instanceof AppError) && pin.cached) {
        this.single.forget(start.organizationId, start.workflowId);
        decisions.push(this.check(start, await read(start, true)));
      } else decisions.push(decision);
    }
    return decisions;
  }

  /** A start's checks against its workflow: ready to record, or refused. */
  private check(start: RunStartRequest, pin: Pin | AppError): Decision {
    if (pin instanceof AppError) return pin;
    try {
      return { ...this.single.prepare(start.organizationId, start.workflowId, pin.pinned, start.input ?? {}), workflow: pin.pinned, cached: pin.cached };
    } catch (error) {
      return refusal(error);
    }
  }
}
