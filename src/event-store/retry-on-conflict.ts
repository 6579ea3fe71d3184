import { StreamVersionConflict } from './errors';

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** Which errors mean "someone appended first, decide again"; conflicts by default. */
  retryable?: (error: unknown) => boolean;
}

/**
 * The writer's loop of an event-sourced command: load, decide, append at the expected version —
 * and when another writer got there first, do it all again from a fresh load. Between tries it
 * waits a few random milliseconds, so two writers that collided do not collide again in
 * lockstep (and a busy stream, such as a running run, cannot starve an API command).
 */
export async function retryOnConflict<T>(work: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const retryable = options.retryable ?? ((error: unknown) => error instanceof StreamVersionConflict);
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (!retryable(error) || attempt >= options.attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 5 * attempt)));
    }
  }
}
