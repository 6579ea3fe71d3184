import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { RestAnswer } from './rest-call';

/** The largest result a tool returns, in bytes of its JSON: lists shrink their page, values are clipped. */
export const MAX_RESULT_BYTES = 60_000;

const HINTS: Record<string, string> = {
  not_found: 'No such id in your organization: find ids with workflows_list, runs_list or connectors_list.',
  forbidden: 'Your role, or this read-only MCP connection (?readonly=1), may not do this: use a member (or higher) credential.',
  unauthorized: 'Send Authorization: Bearer <API key or session token> on the MCP connection.',
  version_mismatch: 'The workflow changed since you read it: call workflow_get and retry with if_match set to `current`.',
  workflow_not_runnable: 'Repair the validation_errors with workflow_patch (send the suggestion of each when it has one), then start again.',
  secret_missing: 'The organization lacks the secrets named in `missing`: an admin creates them (POST /api/secrets), then start again.',
  run_finished: 'The run already ended: read it with run_get.',
  rate_limited: 'Too many calls for this credential: wait a little and retry.',
  idempotency_conflict: 'This idempotency key was used with other arguments: use a new key.',
  invalid_input: "The run input does not match the trigger's inputSchema (see workflow_get).",
  invalid_arguments: "The arguments do not match the tool's input schema: fix the fields named in the message.",
  invalid_body: "The arguments do not match the tool's input schema: fix the fields named in `issues`.",
  invalid_query: "An argument is out of range or a cursor was not one this tool returned: fix the fields named in `issues`.",
};

/** A successful result: the structured value, and the same JSON as text for clients that read only text. */
export function success(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

/**
 * A failure as a tool result (never a protocol error): `{error, message, hint, …details}` in the
 * text. No `structuredContent`: clients validate it against the tool's output schema.
 */
export function failure(code: string, message: string, details: Record<string, unknown> = {}): CallToolResult {
  const body = { ...details, error: code, message, hint: HINTS[code] ?? 'See the message.' };
  return { content: [{ type: 'text', text: JSON.stringify(body) }], isError: true };
}

/** The REST error body `{error, message, …}` as a tool failure. */
export function restFailure(answer: RestAnswer): CallToolResult {
  const { error, message, ...details } = (answer.body ?? {}) as Record<string, unknown>;
  return failure(typeof error === 'string' ? error : `http_${answer.status}`, typeof message === 'string' ? message : `HTTP ${answer.status}`, details);
}

/** A REST answer as a result: an error body becomes a failure, anything else is capped. */
export function fromAnswer(answer: RestAnswer): CallToolResult {
  if (answer.status >= 400) return restFailure(answer);
  return success(capped((answer.body ?? {}) as Record<string, unknown>));
}

/** The value itself when small enough; else its long strings clipped until it fits, marked `truncated`. */
export function capped(value: Record<string, unknown>): Record<string, unknown> {
  if (sizeOf(value) <= MAX_RESULT_BYTES) return value;
  for (let longest = 8192; longest >= 16; longest = Math.floor(longest / 2)) {
    const clipped = { ...(clip(value, longest) as Record<string, unknown>), truncated: true };
    if (sizeOf(clipped) <= MAX_RESULT_BYTES) return clipped;
  }
  return { truncated: true, note: 'The value was too large to show; read it through the REST API.' };
}

export function sizeOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** Strings longer than `longest` cut with a marker saying how much was left out. */
function clip(value: unknown, longest: number): unknown {
  if (typeof value === 'string') return value.length > longest ? `${value.slice(0, longest)}…[truncated ${value.length - longest} chars]` : value;
  if (Array.isArray(value)) return value.map((item) => clip(item, longest));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clip(v, longest)]));
  return value;
}
