import type { Pool, PoolClient } from 'pg';
import { isRolledBackToRetry } from '../database/pg-errors';
import { inTransaction } from '../database/pool';
import { StreamVersionConflict } from './errors';

/** A stream as one attempt found it: the state to decide on, the version the events follow. */
export interface Loaded<S> {
  state: S;
  /** The stream version the append expects (0: a new stream). */
  version: number;
}

/** An earlier identical request already answered (an idempotent replay): nothing to decide. */
export interface Answered<R> {
  answered: R;
}

/**
 * One command on one stream, as the three steps of the Decider's runtime (STYLE.md).
 *
 * - `load` reads afresh on every attempt (or takes a kept state the append checks, and forgets
 *   it when the append finds it stale); it may throw (404) or find the command answered.
 * - `decide` is pure: the decision — events, and whatever the answer is built from — or a
 *   thrown domain error, which ends the command at once with nothing appended.
 * - `append` writes the decision at `loaded.version` and returns the answer. It throws
 *   `StreamVersionConflict` when another writer got there first; the attempt is then void.
 */
export interface CommandSteps<S, D, R> {
  load(): Promise<Loaded<S> | Answered<R>>;
  decide(state: S): D;
  append(loaded: Loaded<S>, decision: D): Promise<R>;
}

export interface CommandOptions {
  /** Tries in all, the first included. */
  attempts: number;
}

/**
 * Load → decide → append with the expected version; when another writer appended first, all
 * three again from a fresh load (the decision may change: the other writer may have removed
 * what we were about to change). After `attempts` tries the last conflict is thrown (409).
 */
export async function handleCommand<S, D, R>(steps: CommandSteps<S, D, R>, options: CommandOptions): Promise<R> {
  return retryOnConflict(() => attempt(steps), options.attempts);
}

/**
 * The same, each attempt in one transaction: `steps` gets its connection, so the load can lock
 * or read rows the append then writes, and extra rows commit (or roll back) with the events.
 */
export async function handleCommandInTransaction<S, D, R>(
  pool: Pool,
  steps: (client: PoolClient) => CommandSteps<S, D, R>,
  options: CommandOptions,
): Promise<R> {
  return retryOnConflict(() => inTransaction(pool, (client) => attempt(steps(client))), options.attempts);
}

async function attempt<S, D, R>(steps: CommandSteps<S, D, R>): Promise<R> {
  const loaded = await steps.load();
  if ('answered' in loaded) return loaded.answered;
  return steps.append(loaded, steps.decide(loaded.state));
}

/**
 * Between tries, a few random milliseconds: two writers that collided do not collide again in
 * lockstep (and a busy stream, such as a running run, cannot starve an API command). A deadlock
 * Postgres broke by failing this attempt is a collision too: nothing of it was written.
 */
async function retryOnConflict<R>(work: () => Promise<R>, attempts: number): Promise<R> {
  for (let tried = 1; ; tried++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof StreamVersionConflict || isRolledBackToRetry(error)) || tried >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 5 * tried)));
    }
  }
}
