import { Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import { inTransaction } from '../database/pool';
import { receiveSignal } from '../domain/run/run.commands';
import { RunRuleError } from '../domain/run/run.errors';
import type { RunEvent } from '../domain/run/run.events';
import type { RunState } from '../domain/run/run.state';
import { AppError } from '../errors';
import { StreamVersionConflict } from '../event-store/errors';
import type { EventMetadata } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import { lockRunRows } from '../run-queue/run-state.queries';
import type { EventTriggerStarts } from './event-trigger-starts';
import { orgEventStream, type OrgEventDelivered } from './org-event.events';
import type { OrgEvent } from './org-events';
import type { RunCommands } from './run-commands';
import type { RunStore } from './run-store';

/**
 * Runs delivered to in one transaction, read in one statement. Each delivery was a command of its
 * own (a stream read, a fold and an append per run, eight at a time): one publication to 3,000
 * waiting runs took 7.6-9.0 s, now 4.6-6.0; three at once to the same runs collided on them for
 * 32-33 s, now 10-16 (an ad-hoc script, the worker completing the runs meanwhile).
 */
const CHUNK = 100;
/** Chunks in flight at once, each in its own transaction. */
const PARALLEL = 2;

const log = new Logger('org-events');

/** What a publication did, as its `OrgEventDelivered` recorded it. */
export type Delivery = Required<Omit<OrgEventDelivered['data'], 'eventId'>>;

/**
 * Starts the runs `event` triggers (`EventTriggerStarts`), then delivers it to every run of its
 * organization waiting for it now (same name; the wait's correlation key absent or equal; its
 * deadline not passed), as `SignalReceived` with the event id as signal id — so a run gets it once
 * even if the stored-event lookup of a wait that began meanwhile delivers it too. Then records
 * `OrgEventDelivered` and answers what it did. Every step is idempotent (the starts by their
 * keys), so a sweeper that delivers again after a crash changes nothing twice.
 *
 * The runs go in chunks, each in one transaction that first locks their `run_state` rows in run
 * id order: concurrent publications to the same runs, and the worker, wait for each other run by
 * run instead of colliding. A chunk that fails is delivered again run by run, each in its own
 * command.
 */
export async function deliverOrgEvent(pool: Pool, store: EventStore, runs: RunCommands, triggers: EventTriggerStarts, event: OrgEvent, metadata: EventMetadata): Promise<Delivery> {
  const { started, refused } = await triggers.start(event, metadata);
  const { rows } = await pool.query<{ run_id: string }>(
    // A run's open waits are removed when it ends (the run_waits projection), so no run_state join.
    `SELECT DISTINCT w.run_id FROM run_event_waits w
     WHERE w.organization_id = $1 AND w.event_name = $2 AND (w.correlation_key IS NULL OR w.correlation_key = $3)
       AND (w.until IS NULL OR w.until >= now())
     ORDER BY w.run_id`,
    [event.organizationId, event.name, event.correlationKey],
  );
  const chunks: string[][] = [];
  for (let at = 0; at < rows.length; at += CHUNK) chunks.push(rows.slice(at, at + CHUNK).map((row) => row.run_id));
  let matched = 0;
  const deliverNext = async (): Promise<void> => {
    for (let chunk = chunks.shift(); chunk !== undefined; chunk = chunks.shift()) {
      const reached = await deliverChunk(pool, runs.store, chunk, event, metadata).catch((error: unknown) => {
        log.warn({ err: error, eventId: event.eventId, runs: chunk.length }, 'an event delivery chunk failed; delivering its runs one by one');
        return deliverOneByOne(runs, chunk, event, metadata);
      });
      matched += reached; // not `matched += await …`: that reads `matched` before the other lane's chunk adds to it
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, chunks.length) }, deliverNext));
  return recordDelivery(store, event, { matchedRuns: matched, startedRuns: started, refusedStarts: refused }, metadata);
}

/** One transaction: the chunk's rows locked, the runs read together, each one's signal appended; how many it reached. */
async function deliverChunk(pool: Pool, runs: RunStore, runIds: readonly string[], event: OrgEvent, metadata: EventMetadata): Promise<number> {
  return inTransaction(pool, async (client) => {
    const held = await lockRunRows(client, event.organizationId, runIds);
    const states = await runs.loadMany(held, event.organizationId, client);
    let reached = 0;
    for (const state of states.values()) {
      const events = decideDelivery(runs, state, event);
      if (!events) continue;
      reached += 1; // as a command counts it: also a run that already had it (a sweeper's second delivery)
      if (events.length === 0) continue;
      const version = state.version;
      for (const recorded of events) runs.decider.evolve(state, recorded);
      // NOTIFY on commit (this process hears it too): a worker takes the run, a waiter re-reads it.
      await runs.append(state, version, events, { metadata, notify: true, client });
    }
    return reached;
  });
}

/** The signal's events for one run (none when it already has it); undefined when it does not take it (it ended or is full). */
function decideDelivery(runs: RunStore, state: RunState, event: OrgEvent): RunEvent[] | undefined {
  try {
    return receiveSignal(state, signalOf(event), runs.decider.limits);
  } catch (error) {
    if (refusedByRun(error)) return undefined;
    throw error;
  }
}

/** The run ended, is full or vanished meanwhile: the event does not reach it. */
function refusedByRun(error: unknown): boolean {
  return error instanceof RunRuleError || error instanceof AppError;
}

async function deliverOneByOne(runs: RunCommands, runIds: readonly string[], event: OrgEvent, metadata: EventMetadata): Promise<number> {
  let reached = 0;
  for (const runId of runIds) if (await deliverTo(runs, runId, event, metadata)) reached += 1;
  return reached;
}

function signalOf(event: OrgEvent): Parameters<typeof receiveSignal>[1] {
  return {
    signalId: event.eventId,
    name: event.name,
    payload: event.payload,
    ...(event.correlationKey !== null ? { correlationKey: event.correlationKey } : {}),
    scope: 'organization',
    now: new Date(),
  };
}

/**
 * Appends `OrgEventDelivered` right after the publication (expected version 1). When a sweeper
 * and a slow publisher both delivered, the first record stands and both answer it.
 */
async function recordDelivery(store: EventStore, event: OrgEvent, delivery: Delivery, metadata: EventMetadata): Promise<Delivery> {
  const streamId = orgEventStream(event.eventId);
  const delivered: OrgEventDelivered = { type: 'OrgEventDelivered', data: { eventId: event.eventId, ...delivery } };
  try {
    await store.append(streamId, 1, [delivered], { organizationId: event.organizationId, metadata });
    return delivery;
  } catch (error) {
    if (!(error instanceof StreamVersionConflict)) throw error;
    const [recorded] = await store.readStream(streamId, { fromVersion: 2, limit: 1 });
    if (recorded?.type !== 'OrgEventDelivered') throw error;
    const { matchedRuns, startedRuns = [], refusedStarts = [] } = recorded.data as OrgEventDelivered['data'];
    return { matchedRuns, startedRuns, refusedStarts };
  }
}

async function deliverTo(runs: RunCommands, runId: string, event: OrgEvent, metadata: EventMetadata): Promise<boolean> {
  try {
    await runs.command(runId, event.organizationId, metadata, (state) => receiveSignal(state, signalOf(event), runs.limits));
    return true;
  } catch (error) {
    if (refusedByRun(error)) return false;
    throw error;
  }
}
