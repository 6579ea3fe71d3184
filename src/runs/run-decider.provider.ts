import type { Provider } from '@nestjs/common';
import { createRunDecider } from '../domain/run/run.decider';

/** Injection token of the process's `RunDecider`. */
export const RUN_DECIDER = Symbol('RunDecider');

/**
 * Provides {@link RUN_DECIDER}. It depends on nothing deployed: what each block's connector is
 * comes pinned in `RunStarted`, so every process replays a stream the same way.
 */
export const runDeciderProvider: Provider = {
  provide: RUN_DECIDER,
  useFactory: () => createRunDecider(),
};
