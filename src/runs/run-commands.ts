import { Inject, Injectable } from '@nestjs/common';
import type { RunDecider } from '../domain/run/run.decider';
import type { RunEvent } from '../domain/run/run.events';
import type { RunState } from '../domain/run/run.state';
import { NotFound } from '../errors';
import { handleCommand } from '../event-store/command-runtime';
import type { EventMetadata } from '../event-store/event';
import { RunReads } from './run-reads';
import { RunStore } from './run-store';

const MAX_COMMAND_ATTEMPTS = 20;

/**
 * API commands on an existing run: a signal, a cancel request, an approval's decision, an
 * organization event delivered to one run. Each is decided on a copy of the state `RunReads`
 * keeps for the run, caught up with the events since, and the copy, once its events are
 * committed, is kept in its place: a signal to a run with a thousand steps behind it read and
 * folded all of them, and now reads what is new (`npm run bench -- runtime`, `runCommands`: 26-29
 * ms against 3.7-7.7, 2026-12-06).
 */
@Injectable()
export class RunCommands {
  constructor(
    @Inject(RunStore) readonly store: RunStore,
    @Inject(RunReads) private readonly reads: RunReads,
  ) {}

  /** The bounds a run's events are decided within (its signals' count and size among them). */
  get limits(): RunDecider['limits'] {
    return this.store.decider.limits;
  }

  /**
   * Load, `decide` the events (it may throw a domain error), append them with a NOTIFY, and start
   * over on a concurrent append. 404 when the run is not this organization's. Returns the state
   * after the events: shared with the next reads of the run, so read it, never change it.
   */
  async command(runId: string, organizationId: string, metadata: EventMetadata, decide: (state: RunState) => RunEvent[]): Promise<{ state: RunState; events: RunEvent[] }> {
    const done = await handleCommand(
      {
        load: async () => {
          const state = await this.reads.copy(runId, organizationId);
          if (!state) throw new NotFound('run');
          return { state, version: state.version };
        },
        decide,
        append: async ({ state, version }, events) => {
          if (events.length === 0) return { state, events };
          // The state after the batch goes to the `run_state` projection with it (see `RunStore.append`).
          for (const event of events) this.store.decider.evolve(state, event);
          await this.store.append(state, version, events, { metadata, notify: true });
          return { state, events };
        },
      },
      { attempts: MAX_COMMAND_ATTEMPTS },
    );
    this.reads.recorded(runId, organizationId, done.state);
    return done;
  }
}
