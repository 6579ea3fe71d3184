import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import type { RunLimits } from '../domain/run/run.bounds';
import type { RunDecider } from '../domain/run/run.decider';
import type { RunState } from '../domain/run/run.state';
import type { EventMetadata } from '../event-store/event';
import type { Queryable } from '../projections/projection';
import type { RunStore } from '../runs/run-store';
import type { ActiveRun, Settled } from './active-run';
import type { RunClaims } from './run-claims';
import type { TemplateEnv } from './run-ports';
import type { StepExecutor } from './step-executor';

/** What an `ActiveRun` uses of the worker that holds it. */
export interface RunHost {
  readonly owner: string;
  readonly leaseMs: number;
  readonly decider: RunDecider;
  readonly limits: RunLimits;
  readonly store: RunStore;
  readonly claims: RunClaims;
  readonly executor: StepExecutor;
  readonly catalog: ConnectorCatalog;
  readonly templateEnv: TemplateEnv;
  readonly metadata: EventMetadata;
  readonly pool: Queryable;
  readonly log: { warn(data: object, message: string): void };
  /** The run left this worker: parked (with its state and next timer), ended, or dropped. */
  settled(run: ActiveRun, how: Settled, state: RunState | undefined, wakeAt: Date | undefined): void;
}
