import { plainlyOverLimit } from '../domain/json-size';
import type { StepOutcome } from '../domain/run/step-result';

/** What replaces a secret value anywhere the runtime records it. */
export const HIDDEN = '[hidden]';

/**
 * `outcome` with every occurrence of a secret value (in output strings, keys or the error
 * message) replaced by `"[hidden]"`, so a connector that echoes a token cannot get it recorded.
 * An output plainly past `maxPayloadBytes` is left as it is: the run refuses it without recording
 * any of it, and serialising it to look could exhaust the heap.
 */
export function redactSecrets(outcome: StepOutcome, values: readonly string[], maxPayloadBytes: number): StepOutcome {
  const secrets = values.filter((v) => v.length >= 4);
  if (secrets.length === 0) return outcome;
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join(HIDDEN), text);
  if (!outcome.ok) return { ok: false, error: { ...outcome.error, message: scrub(outcome.error.message) } };
  if (outcome.output === undefined || plainlyOverLimit(outcome.output, maxPayloadBytes)) return outcome;
  let json: string | undefined;
  try {
    json = JSON.stringify(outcome.output);
  } catch {
    return outcome; // not JSON: the run records it as an invalid output anyway
  }
  if (json === undefined || !secrets.some((s) => json.includes(s))) return outcome;
  const escaped = secrets.map((s) => JSON.stringify(s).slice(1, -1));
  const cleaned = escaped.reduce((out, secret) => out.split(secret).join(HIDDEN), json);
  return { ok: true, output: JSON.parse(cleaned) as unknown };
}

/** A block's recorded input: its resolved params with hidden and secret-bound ones as `"[hidden]"`. */
export function redactInput(params: Record<string, unknown>, hiddenParams: Iterable<string>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...params };
  for (const key of hiddenParams) out[key] = HIDDEN;
  return out;
}
