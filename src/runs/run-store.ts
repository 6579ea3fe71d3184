import { Inject, Injectable, Optional } from '@nestjs/common';
import { Pool, type PoolClient } from 'pg';
import type { RunDecider } from '../domain/run/run.decider';
import { endsRun, runIdOf, runStreamId, type RunEvent, type RunStarted } from '../domain/run/run.events';
import { inTransaction } from '../database/pool';
import { leaveLine, leaveLineTogether, lineIdOf, lineMemberOf, type LineExit, type LineMember } from '../run-queue/run-concurrency';
import { LineGroups } from '../run-queue/line-groups';
import type { StreamVersionConflict } from '../event-store/errors';
import type { LeaseLost } from '../run-queue/run-append-hint';
import { cloneRunState, type RunState } from '../domain/run/run.state';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import type { RunAppendHint } from '../run-queue/run-append-hint';
import type { Queryable } from '../event-store/projection';
import { appendRunBatch, appendRunBatches, runAppendItem, type Item, type RunAppendOptions as RunItemOptions } from '../run-queue/run-append';
import { RunAppendGroups } from '../run-queue/run-append-groups';
import { RunDefinitionWriter, resolveRunDefinitions, type PreparedBatch } from '../run-queue/run-definitions';
import { runStateProjection } from '../run-queue/run-state.projection';
import { RunChanges } from './run-changes';
import { RUN_DECIDER } from './run-decider.provider';
import { RUN_METRICS, type RunMetrics } from './run-metrics';

export interface RunAppendOptions {
  metadata: EventMetadata;
  /** NOTIFY on commit: for appends that must wake a worker or a waiter in another process. */
  notify?: boolean;
  /** The worker's lease: the append fails with `LeaseLost` once another worker claimed the run. */
  fence?: { owner: string; epoch: number };
  /** Clear the lease in the same transaction (the worker parks the run). */
  release?: boolean;
  /** Join this transaction; the caller then tells listeners (`RunChanges.emit`) after its commit. */
  client?: PoolClient;
  /** A new run only: leased to this worker in the same commit (see `RunHandoff`). */
  lease?: { owner: string; ms: number };
  /** A new run only: written only while its pinned workflow version is current, else `WorkflowMoved` (see `CurrentWorkflows`). */
  checkWorkflow?: boolean;
}

/** A new run for `RunStore.appendNew`: its start events folded into `state`; `lease`/`release`/`checkWorkflow` as `RunAppendOptions`. */
export interface NewRun {
  state: RunState;
  events: RunEvent[];
  metadata: EventMetadata;
  checkWorkflow?: boolean;
  lease?: { owner: string; ms: number };
  release?: boolean;
}

/**
 * Reads and writes run streams. Every append hands the state after the batch to the `run_state`
 * projection (no re-fold on the hot path) and tells this process's listeners after the commit.
 */
@Injectable()
export class RunStore {
  constructor(
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(RUN_DECIDER) readonly decider: RunDecider,
    @Inject(RunChanges) private readonly changes: RunChanges,
    @Inject(Pool) private readonly pool: Pool,
    @Optional() @Inject(RUN_METRICS) private readonly metrics?: RunMetrics,
  ) {
    this.groups = new RunAppendGroups(pool, store.channel);
    this.definitions = new RunDefinitionWriter(pool);
    this.exits = new LineGroups(pool, (client, exits) => leaveLineTogether(client, exits, store.channel));
  }

  /** The ends of runs of concurrency lines, one transaction per line at a time. */
  private readonly exits: LineGroups<LineExit, true | LeaseLost | StreamVersionConflict>;

  /** The event store's NOTIFY channel (a run woken in its concurrency line is announced on it). */
  get channel(): string {
    return this.store.channel;
  }

  /** Starts that name their definition are stored without workflow and blocks (see `run-definition.ts`). */
  private readonly definitions: RunDefinitionWriter;

  /** Batches appended outside a caller's transaction share statements and commits (group commit). */
  private readonly groups: RunAppendGroups;

  /**
   * The run folded from its stream; undefined when it does not exist in this organization. Every
   * read of a run names its organization, as its statements do (docs/scaling.md, point 6).
   */
  async load(runId: string, organizationId: string): Promise<RunState | undefined> {
    const events = await resolveRunDefinitions(this.pool, await this.store.readStream(runStreamId(runId), { organizationId }));
    return events.length === 0 ? undefined : this.decider.fold(events as unknown as RunEvent[]);
  }

  /**
   * The run's `RunStarted` (of this organization), its pinned workflow and blocks resolved: one
   * read of the stream's first event, however long the stream. Undefined when there is no run.
   */
  async started(runId: string, organizationId: string): Promise<RunStarted['data'] | undefined> {
    const [first] = await resolveRunDefinitions(this.pool, await this.store.readStream(runStreamId(runId), { organizationId, limit: 1 }));
    return first?.type === 'RunStarted' ? (first.data as RunStarted['data']) : undefined;
  }

  /** Several runs folded from their streams in one read (of this organization), by run id; runs that do not exist are absent. */
  async loadMany(runIds: readonly string[], organizationId: string, db: Queryable = this.pool): Promise<Map<string, RunState>> {
    const streams = await this.store.readStreams(runIds.map(runStreamId), { organizationId, db });
    const states = new Map<string, RunState>();
    for (const [streamId, events] of streams) {
      states.set(runIdOf(streamId), this.decider.fold((await resolveRunDefinitions(db, events)) as unknown as RunEvent[]));
    }
    return states;
  }

  /**
   * Folds the events recorded after `state.version` (of this organization) into
   * `state` (consumed). Only those still past its version when the read answers: a state shared by
   * readers may have been caught up by another meanwhile (the fold is synchronous, so its version
   * says which are new).
   */
  async catchUp(state: RunState, runId: string, organizationId: string): Promise<RunState> {
    const read = await this.store.readStream(runStreamId(runId), { fromVersion: state.version + 1, organizationId });
    const events = await resolveRunDefinitions(this.pool, read);
    return this.decider.fold(events.filter((event) => event.streamVersion > state.version) as unknown as RunEvent[], state);
  }

  /** Whether `run_state` is the only inline projection these events concern: then one statement records them. */
  appendsInOneStatement(events: readonly RunEvent[]): boolean {
    return this.store.inlineProjectionsOf(events).every((p) => p === runStateProjection);
  }

  /**
   * Appends `events`, which have already been folded into `state`, at `expectedVersion` (the
   * version before them): in one statement when `run_state` is their only inline projection (the
   * steady state of a run), else through the event store with the state handed to the projection.
   * Throws `StreamVersionConflict` or `LeaseLost`; `state` is then stale.
   *
   * Everything the write reads of `state` is taken before this returns its promise, so the caller
   * may evolve `state` further while the commit is on its way (a chain of pure steps played ahead,
   * `ActiveRun.record`): the one-statement append's row, else a copy for the projection. Only an
   * ended run's state is kept as it is (told to listeners as its final state): nothing evolves it.
   */
  async append(state: RunState, expectedVersion: number, events: RunEvent[], options: RunAppendOptions): Promise<void> {
    const run = state.run;
    if (!run) throw new Error('cannot append to a run that has not started');
    // A run of a concurrency line leaves it in the commit that records its end.
    const leaving = state.outcome !== undefined && events.some(endsRun) ? lineMemberOf(run) : undefined;
    if (options.client) {
      const client = options.client;
      const write = this.writer(state, run, expectedVersion, events, options);
      await (leaving ? leaveLine(client, leaving, () => write(client), this.store.channel) : write(client));
      this.metrics?.recorded(events);
      return;
    }
    const ended = state.outcome !== undefined;
    const change = { version: state.version, ended, ...(ended ? { final: state } : {}) };
    // An end that leaves its line through the event store takes a transaction of its own.
    const apart = leaving !== undefined && !this.appendsInOneStatement(events);
    const write = this.writer(state, run, expectedVersion, events, options, apart, apart ? undefined : leaving);
    // Outside a caller's transaction this instance tells its listeners itself, once the commit
    // answers; until then a reader that already sees the commit waits for that word.
    await this.changes.recording(run.runId, async () => {
      if (apart) await inTransaction(this.pool, (client) => leaveLine(client, leaving, () => write(client), this.store.channel));
      else await write();
      this.metrics?.recorded(events);
      this.changes.emit(run.runId, change);
    });
  }

  /**
   * The store's part of `append`, with what it reads of `state` taken now (see `append`): a write
   * of the batch, by one statement or through the event store, in `client`'s transaction when
   * given one (the caller's, or `append`'s own: `heardHere`, whose change this instance emits
   * itself). `leaving`: the run's end, in one statement, as it leaves its concurrency line
   * (grouped with the other ends of the line, `leaveLineTogether`).
   */
  private writer(
    state: RunState,
    run: NonNullable<RunState['run']>,
    expectedVersion: number,
    events: RunEvent[],
    options: RunAppendOptions,
    heardHere = false,
    leaving?: LineMember,
  ): (client?: PoolClient) => Promise<void> {
    // Without a caller's transaction this instance hears the change in process (`append`), so
    // its NOTIFY is for the other instances only.
    const origin = options.client && !heardHere ? {} : { notifyOrigin: this.changes.origin };
    const prepared = this.definitions.prepare(events);
    const stored = prepared.events as RunEvent[];
    if (!this.appendsInOneStatement(events)) {
      if (options.lease || options.checkWorkflow) throw new Error('a run is leased, or its workflow checked, only by the one-statement append');
      const streamId = runStreamId(run.runId);
      // The projection reads the state during the append: a copy, which the caller's moves leave be.
      const hint: RunAppendHint = { kind: 'run', streamId, state: cloneRunState(state), ...(options.fence ? { fence: options.fence } : {}), ...(options.release ? { release: true } : {}) };
      const append = { organizationId: run.organizationId, metadata: options.metadata, notify: options.notify ?? false, hint };
      return async (client) => {
        if (prepared.definition) await this.recordDefinitionApart(prepared, run.organizationId, options.metadata, client);
        // Outside a transaction the store shares a commit with the appends queued beside it (`AppendGroups`).
        await this.store.append(streamId, expectedVersion, stored, client ? { ...append, client } : { ...append, ...origin });
      };
    }
    // A new definition rides along with an autocommitted start; otherwise it is recorded just before.
    const alongside = prepared.definition && !options.client ? prepared.definition : undefined;
    const item = runAppendItem(state, expectedVersion, stored, {
      metadata: options.metadata,
      ...(options.notify ? { notify: true, ...origin } : {}),
      ...(options.fence ? { fence: options.fence } : {}),
      ...(options.release ? { release: true } : {}),
      ...(options.lease ? { lease: options.lease } : {}),
      ...(options.checkWorkflow ? { checkWorkflow: true } : {}),
      ...(alongside ? { definition: alongside } : {}),
    });
    return async (client) => {
      if (prepared.definition && !alongside) await this.recordDefinitionApart(prepared, run.organizationId, options.metadata, client);
      if (client) await appendRunBatch(client, item, this.store.channel);
      else if (leaving) await this.leave(leaving, item);
      else await this.groups.append(item);
      if (alongside) this.definitions.committed(alongside.digest);
    };
  }

  /** A start's definition recorded in its own statement, before the start (in `client`'s transaction when given). */
  private recordDefinitionApart(prepared: PreparedBatch, organization: string, metadata: EventMetadata, client?: PoolClient): Promise<void> {
    return this.definitions.recordApart([{ ...prepared, organization, metadata }], client);
  }

  /** A run's end written with the other ends of its concurrency line; it leaves the line in that commit. */
  private async leave(member: LineMember, end: Item): Promise<void> {
    const outcome = await this.exits.submit(lineIdOf(member), { member, end });
    if (outcome !== true) throw outcome;
  }

  /**
   * Records many new runs (each folded from its start events) in the caller's transaction, in one
   * statement when `run_state` is their only inline projection; each NOTIFYs on commit, and the
   * caller tells this process's listeners after it. `checkWorkflow`: see `RunAppendOptions`.
   */
  async appendNew(client: PoolClient, starts: readonly NewRun[]): Promise<void> {
    const optionsOf = (start: NewRun): RunItemOptions => ({
      metadata: start.metadata,
      notify: true,
      ...(start.checkWorkflow ? { checkWorkflow: true } : {}),
      // A start leased to this process's worker is heard in process (its writer emits it after
      // the commit): its NOTIFY is for the other instances only.
      ...(start.lease ? { lease: start.lease, notifyOrigin: this.changes.origin } : {}),
      ...(start.release ? { release: true } : {}),
    });
    // A start with other inline projections than run_state goes alone (never a leased one:
    // `LocalRunner.reserve` takes only starts that fit the one statement).
    const together: NewRun[] = [];
    for (const start of starts) {
      if (this.appendsInOneStatement(start.events)) together.push(start);
      else await this.append(start.state, 0, start.events, { metadata: start.metadata, notify: true, client, ...(start.checkWorkflow ? { checkWorkflow: true } : {}) });
    }
    if (together.length === 0) return;
    const prepared = together.map((start) => ({ ...this.definitions.prepare(start.events), organization: start.state.run!.organizationId, metadata: start.metadata }));
    await this.definitions.recordApart(prepared, client);
    const items = together.map((start, i) => runAppendItem(start.state, 0, prepared[i]!.events as RunEvent[], optionsOf(start)));
    await appendRunBatches(client, items, this.store.channel);
    for (const start of together) this.metrics?.recorded(start.events);
  }
}
