import { eventCountsProjection } from './event-counts.projection';
import type { Projection } from './projection';

/**
 * Every read model of the application. The event store runs the inline ones inside appends,
 * the worker runs the async ones, and `thodare projections rebuild <name>` looks names up here.
 */
export const ALL_PROJECTIONS: readonly Projection[] = [eventCountsProjection];

export function findProjection(name: string): Projection | undefined {
  return ALL_PROJECTIONS.find((p) => p.name === name);
}
