import type { ConnectorContext } from '../domain/connectors/connector';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import type { ExecuteStep } from '../domain/run/run.actions';
import { normalizeStepError, STEP_ERROR_CODES, type StepError, type StepOutcome } from '../domain/run/step-result';
import { AttemptStop } from './attempt-stop';
import { redactSecrets } from './redaction';

/** What the executor needs to read an organization's secrets (the `SecretsService`). */
export interface SecretSource {
  resolveSecrets(organizationId: string, names: readonly string[]): Promise<Record<string, string>>;
}

/** Where a connector's `ctx.log` lines go. */
export type StepLog = (message: string, data: Record<string, unknown>) => void;

/** The run an attempt belongs to. */
export interface StepRun {
  runId: string;
  organizationId: string;
}

/**
 * Runs one attempt of an action block: fills hidden params from the organization's secrets,
 * parses the params with the connector's schema, calls `connector.run` with an `AbortSignal`
 * (aborted by the attempt's `AttemptStop`: on cancellation, lease loss or `timeoutMs`), and turns whatever comes back — a value,
 * a throw of anything, a hang past the timeout — into a `StepOutcome`. Never throws. Secret
 * values that come back in an output or an error message are replaced by `"[hidden]"`.
 */
export class StepExecutor {
  constructor(
    private readonly catalog: ConnectorCatalog,
    private readonly secrets: SecretSource,
    private readonly log: StepLog,
    /** The run limit outputs are held to (`RunLimits.maxPayloadBytes`). */
    private readonly maxPayloadBytes: number,
  ) {}

  async execute(run: StepRun, step: ExecuteStep, params: Record<string, unknown>, stop: AttemptStop = new AttemptStop()): Promise<StepOutcome> {
    const connector = this.catalog.get(step.blockType);
    if (!connector?.run) return failure('block_type_not_registered', `No runnable connector "${step.blockType}"`, false);
    let secrets: Record<string, string> = {};
    const bindings = Object.entries(connector.secrets);
    if (bindings.length > 0) {
      try {
        secrets = await this.secrets.resolveSecrets(run.organizationId, bindings.map(([, name]) => name));
      } catch (error) {
        const { code, message } = normalizeStepError(error);
        return failure(code, message, false);
      }
    }
    const input: Record<string, unknown> = { ...params };
    for (const [param, name] of bindings) if (secrets[name] !== undefined) input[param] = secrets[name];
    const parsed = connector.params.safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`);
      return failure('invalid_params', `Invalid ${step.blockType} params — ${issues.join('; ')}`, false);
    }
    const outcome = await this.call(run, step, (ctx) => connector.run!(parsed.data as never, ctx), secrets, stop);
    return bindings.length > 0 ? redactSecrets(outcome, Object.values(secrets), this.maxPayloadBytes) : outcome;
  }

  private async call(
    run: StepRun,
    step: ExecuteStep,
    invoke: (ctx: ConnectorContext) => Promise<unknown>,
    secrets: Record<string, string>,
    stop: AttemptStop,
  ): Promise<StepOutcome> {
    let timedOut = false;
    const timer = step.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      stop.abort(new Error('step timed out'));
    }, step.timeoutMs);
    const ctx: ConnectorContext = {
      runId: run.runId,
      blockId: step.blockId,
      attempt: step.attempt,
      idempotencyKey: step.idempotencyKey,
      get signal() {
        return stop.signal;
      },
      secrets,
      log: (message: string, data: Record<string, unknown> = {}) => this.log(message, { ...data, runId: run.runId, blockId: step.blockId, attempt: step.attempt }),
    };
    try {
      const output = await stop.race(Promise.resolve().then(() => invoke(ctx)));
      return { ok: true, output };
    } catch (error) {
      if (timedOut) return failure(STEP_ERROR_CODES.timeout, `The step ran longer than its ${step.timeoutMs} ms timeout`, true);
      return { ok: false, error: normalizeStepError(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

function failure(code: string, message: string, retryable: boolean): { ok: false; error: StepError } {
  return { ok: false, error: { code, message, retryable } };
}
