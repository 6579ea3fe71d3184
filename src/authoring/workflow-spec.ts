import type { z } from 'zod';

/** A workflow's typed contract: what a run takes and what it gives back. */
export interface WorkflowSpec<I extends z.ZodType, O extends z.ZodType> {
  name: string;
  version: number;
  input: I;
  output: O;
  /** The input parsed by the spec; throws the `ZodError` on invalid input. */
  parseInput(input: unknown): z.output<I>;
  /** A run's outputs parsed by the spec; throws the `ZodError` when they do not fit. */
  parseOutput(outputs: unknown): z.output<O>;
}

/** Declares a workflow spec from zod schemas (see `startSpecRun`). */
export function defineWorkflowSpec<I extends z.ZodType, O extends z.ZodType>(definition: {
  name: string;
  version: number;
  input: I;
  output: O;
}): WorkflowSpec<I, O> {
  const { name, version, input, output } = definition;
  return {
    name,
    version,
    input,
    output,
    parseInput: (value) => input.parse(value),
    parseOutput: (value) => output.parse(value),
  };
}

/** A fetch bound to a Thodare server and its credentials: `path` starts with `/api/`. */
export type SpecFetcher = (path: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<Response>;

/** `POST /api/workflows/:id/runs` answered with something other than 202 or 200. */
export class SpecRunRefused extends Error {
  readonly code = 'spec_run_refused';
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`starting the run was refused with HTTP ${status}: ${JSON.stringify(body).slice(0, 500)}`);
    this.name = 'SpecRunRefused';
  }
}

/** What the API answers to a run start. */
export interface StartedRun {
  runId: string;
  status: string;
  workflowVersion: number;
}

/**
 * Starts a run of workflow `workflowId` with `input`, parsed by `spec` first: invalid input throws
 * the spec's `ZodError` and the API is never called, so no run exists.
 */
export async function startSpecRun<I extends z.ZodType, O extends z.ZodType>(
  fetcher: SpecFetcher,
  spec: WorkflowSpec<I, O>,
  workflowId: string,
  input: z.input<I>,
  options: { idempotencyKey?: string } = {},
): Promise<StartedRun> {
  const parsed = spec.parseInput(input);
  const response = await fetcher(`/api/workflows/${encodeURIComponent(workflowId)}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input: parsed, ...options }),
  });
  const body = (await response.json().catch(() => null)) as unknown;
  if (response.status !== 202 && response.status !== 200) throw new SpecRunRefused(response.status, body);
  return body as StartedRun;
}
