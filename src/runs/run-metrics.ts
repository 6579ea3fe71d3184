import type { RunEvent } from '../domain/run/run.events';

/**
 * Told of every batch of run events this process records (`RunStore.append`), if the app wires
 * a sink (`RUN_METRICS`): run starts and ends are counted from them.
 */
export interface RunMetrics {
  recorded(events: readonly RunEvent[]): void;
}

export const RUN_METRICS = Symbol('RunMetrics');
