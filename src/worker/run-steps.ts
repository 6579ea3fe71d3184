import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import type { ExecuteStep } from '../domain/run/run.actions';
import type { RunState } from '../domain/run/run.state';
import type { RunPorts } from '../domain/run/run.translate';
import { plainlyOverLimit, sizeText } from '../domain/json-size';
import { normalizeStepError, STEP_ERROR_CODES, type StepOutcome } from '../domain/run/step-result';
import { resolveBlockParams, runPorts, type TemplateEnv } from './run-ports';
import type { AttemptStop } from './attempt-stop';
import type { StepExecutor } from './step-executor';
import type { WorkerMetrics } from './worker-metrics';

/**
 * The connector side of a worker's held runs: the ports a batch is decided with, and one step
 * attempt (params resolved from the run, the connector called, its duration counted).
 */
export class RunSteps {
  constructor(
    private readonly catalog: ConnectorCatalog,
    private readonly executor: StepExecutor,
    private readonly templateEnv: TemplateEnv,
    /** The run limit params are held to, as outputs are. */
    private readonly maxPayloadBytes: number,
    private readonly metrics?: WorkerMetrics,
  ) {}

  /** Whether the step's connector declares itself pure (`ConnectorConfig.pure`). */
  isPure(step: ExecuteStep): boolean {
    return this.catalog.get(step.blockType)?.pure === true;
  }

  /**
   * Never throws, nor rejects: a failure to resolve the params is a (retryable) failed attempt,
   * and so is anything the executor itself failed with — an attempt with no result would leave its
   * run waiting for it for good.
   */
  execute(run: { runId: string; organizationId: string }, step: ExecuteStep, state: RunState, params: Record<string, unknown> | undefined, stop: AttemptStop | undefined): Promise<StepOutcome> {
    let input = params; // resolved and found within the limit when the attempt was recorded (`runPorts`)
    if (!input) {
      try {
        // Resolved now, before anything is awaited: the state moves on with the next batch.
        input = resolveBlockParams(state, step.blockId, this.templateEnv, this.maxPayloadBytes);
      } catch (error) {
        return Promise.resolve({ ok: false, error: normalizeStepError(error) });
      }
      // Never handed to a connector: one that serialises them (an HTTP body) would exhaust the heap.
      const over = plainlyOverLimit(input, this.maxPayloadBytes);
      if (over) {
        const message = `The step's resolved params are ${sizeText(over)} bytes; the limit is ${this.maxPayloadBytes}`;
        return Promise.resolve({ ok: false, error: { code: STEP_ERROR_CODES.payloadTooLarge, message, retryable: false } });
      }
    }
    const began = performance.now();
    return this.executor.execute(run, step, input, stop).then(
      (outcome) => {
        this.metrics?.stepAttempt(step.blockType, outcome.ok, (performance.now() - began) / 1000);
        return outcome;
      },
      (error: unknown) => ({ ok: false, error: normalizeStepError(error) }),
    );
  }

  ports(now: Date, resolved: Map<string, Record<string, unknown>>): RunPorts & { jitter01: number } {
    return runPorts(this.catalog, this.templateEnv, resolved, this.maxPayloadBytes)(now);
  }
}
