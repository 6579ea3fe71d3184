import { PayloadNotJson, PayloadTooLarge, RunTooLong } from './run.errors';
import type { RunState } from './run.state';

/** Per-run bounds. The shell builds them from configuration; the defaults are below. */
export interface RunLimits {
  /** Events a run may hold before it fails with `run_too_long`; its terminal events always fit. */
  maxEventsPerRun: number;
  /** Bytes (UTF-8 JSON) of one run input, step output or signal payload. */
  maxPayloadBytes: number;
}

/** 10,000 events; 256 KiB per payload. */
export const DEFAULT_RUN_LIMITS: RunLimits = { maxEventsPerRun: 10_000, maxPayloadBytes: 262_144 };

/** Limits with overrides applied. */
export function runLimitsOf(overrides: Partial<RunLimits> = {}): RunLimits {
  return { ...DEFAULT_RUN_LIMITS, ...overrides };
}

/**
 * The UTF-8 byte length of `value` as JSON (`undefined` counts as `null`), or `undefined` when it
 * cannot be JSON (BigInt, cycles). O(size).
 */
export function payloadBytes(value: unknown): number | undefined {
  let json: string;
  try {
    json = JSON.stringify(value ?? null);
  } catch {
    return undefined;
  }
  return utf8Length(json);
}

/** Throws {@link PayloadTooLarge} / {@link PayloadNotJson} when `value` does not fit. */
export function assertPayloadFits(what: string, value: unknown, limits: RunLimits): void {
  const bytes = payloadBytes(value);
  if (bytes === undefined) throw new PayloadNotJson(what);
  if (bytes > limits.maxPayloadBytes)
    throw new PayloadTooLarge(what, bytes, limits.maxPayloadBytes);
}

/** Whether `count` more events keep the run within `maxEventsPerRun`. */
export function fitsEventBudget(state: RunState, count: number, limits: RunLimits): boolean {
  return state.version + count <= limits.maxEventsPerRun;
}

/** Throws {@link RunTooLong} when `count` more events would pass the budget. */
export function assertEventBudget(state: RunState, count: number, limits: RunLimits): void {
  if (!fitsEventBudget(state, count, limits)) throw new RunTooLong(limits.maxEventsPerRun);
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
