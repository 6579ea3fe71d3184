import { payloadSize } from '../json-size';
import { PayloadNotJson, PayloadTooLarge, RunTooLong } from './run.errors';
import type { RunState } from './run.state';

/** Per-run bounds. The shell builds them from configuration; the defaults are below. */
export interface RunLimits {
  /** Events a run may hold before it fails with `run_too_long`; its terminal events always fit. */
  maxEventsPerRun: number;
  /** Bytes (UTF-8 JSON) of one run input, step output or signal payload. */
  maxPayloadBytes: number;
  /**
   * Bytes of every output a run holds together (its input, each block's output): a step whose
   * output would take the run past it fails with `payload_too_large`. The outputs are copied whole
   * into `RunCompleted` and into every read of the run, so 500 blocks of 256 KiB made 128 MB of each.
   */
  maxRunOutputBytes: number;
}

/** 10,000 events; 256 KiB per payload; 32 MiB of outputs per run. */
export const DEFAULT_RUN_LIMITS: RunLimits = { maxEventsPerRun: 10_000, maxPayloadBytes: 262_144, maxRunOutputBytes: 33_554_432 };

/** Limits with overrides applied. */
export function runLimitsOf(overrides: Partial<RunLimits> = {}): RunLimits {
  return { ...DEFAULT_RUN_LIMITS, ...overrides };
}

/** Throws {@link PayloadTooLarge} / {@link PayloadNotJson} when `value` does not fit. */
export function assertPayloadFits(what: string, value: unknown, limits: RunLimits): void {
  const size = payloadSize(value, limits.maxPayloadBytes);
  if (size === undefined) throw new PayloadNotJson(what);
  if (size.bytes > limits.maxPayloadBytes) throw new PayloadTooLarge(what, size, limits.maxPayloadBytes);
}

/** Whether `count` more events keep the run within `maxEventsPerRun`. */
export function fitsEventBudget(state: RunState, count: number, limits: RunLimits): boolean {
  return state.version + count <= limits.maxEventsPerRun;
}

/** Throws {@link RunTooLong} when `count` more events would pass the budget. */
export function assertEventBudget(state: RunState, count: number, limits: RunLimits): void {
  if (!fitsEventBudget(state, count, limits)) throw new RunTooLong(limits.maxEventsPerRun);
}

