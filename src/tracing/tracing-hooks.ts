import type { Attributes, Span, SpanContext } from '@opentelemetry/api';
import type { RunHookInfo, StepAttemptHookInfo, WorkerHooks } from './hooks';
import { loadOpenTelemetry, type ModuleLoader } from './tracer';

/** The instrumentation scope (tracer name) of Thodare's spans. */
export const TRACER_NAME = 'thodare';

/** Span, event and attribute names (see README, "Tracing and hooks"). */
export const TRACE_NAMES = {
  runSpan: 'thodare.run',
  stepSpan: 'thodare.step',
  retryEvent: 'thodare.step.retry_scheduled',
  runId: 'thodare.run_id',
  organizationId: 'thodare.organization_id',
  workflowId: 'thodare.workflow_id',
  workflowVersion: 'thodare.workflow_version',
  blockId: 'thodare.block_id',
  connector: 'thodare.connector',
  attempt: 'thodare.attempt',
  retryAvailableAt: 'thodare.retry.available_at',
  runStatus: 'thodare.run.status',
  segmentEnd: 'thodare.run.segment_end',
  errorRetryable: 'thodare.error.retryable',
  /** OpenTelemetry's general attribute for the class of an error: the stable error code. */
  errorType: 'error.type',
} as const;

const N = TRACE_NAMES;
/** Parked segments remembered for a link from the run's next segment in this process. */
const PARKED_LINKS_LIMIT = 10_000;

/**
 * Tracing as a hook set: a `thodare.run` span per run **segment** this process executes (a run
 * may span processes and days: each segment is its own span, all carrying `thodare.run_id`; a
 * segment that follows a parked one in the same process links to it), and a `thodare.step` span
 * per step attempt, child of its segment's span. A failed attempt or run has status ERROR with
 * the error code as message and `error.type`; success leaves the status unset, as OpenTelemetry
 * asks of instrumentation. Undefined when `@opentelemetry/api` is not installed (`load` stands
 * in for `require` in tests).
 */
export function tracingHooks(load?: ModuleLoader): WorkerHooks | undefined {
  const api = loadOpenTelemetry(load);
  if (!api) return undefined;
  const tracer = api.trace.getTracer(TRACER_NAME);
  const segments = new Map<string, { run: RunHookInfo; span: Span }>();
  const parked = new Map<string, SpanContext>();
  const steps = new WeakMap<StepAttemptHookInfo, Span>();
  const failed = (span: Span, code: string) => {
    span.setAttribute(N.errorType, code);
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: code });
  };

  // With the API installed but no SDK registered, every span is a no-op that the hooks would
  // still build attributes and contexts for (~1 % of a busy server's CPU): until a provider is
  // registered they start none. Asked at each start: a provider may be registered (or the API
  // reset) at any time. APIs without `getDelegateTracer` always record.
  const recording = () => {
    const provider = api.trace.getTracerProvider() as { getDelegateTracer?: (name: string) => unknown };
    return provider.getDelegateTracer === undefined || provider.getDelegateTracer(TRACER_NAME) !== undefined;
  };

  return {
    onRunSegmentStarted(run) {
      if (!recording()) return;
      const previous = parked.get(run.runId);
      parked.delete(run.runId);
      const links = previous ? [{ context: previous }] : [];
      const span = tracer.startSpan(N.runSpan, { kind: api.SpanKind.INTERNAL, attributes: runAttributes(run), links });
      segments.set(run.runId, { run, span });
    },
    onStepAttemptStarted(step) {
      if (!recording()) return;
      const segment = segments.get(step.run.runId);
      const parent = segment ? api.trace.setSpan(api.context.active(), segment.span) : api.context.active();
      const attributes = { ...runAttributes(step.run), [N.blockId]: step.blockId, [N.connector]: step.connector, [N.attempt]: step.attempt };
      steps.set(step, tracer.startSpan(N.stepSpan, { kind: api.SpanKind.INTERNAL, attributes }, parent));
    },
    onStepAttemptFinished(step, result) {
      const span = steps.get(step);
      if (!span) return;
      steps.delete(step);
      if (!result.ok) {
        span.setAttribute(N.errorRetryable, result.error.retryable);
        failed(span, result.error.code);
      }
      span.end();
    },
    onStepRetryScheduled(retry) {
      segments.get(retry.run.runId)?.span.addEvent(N.retryEvent, { [N.blockId]: retry.blockId, [N.attempt]: retry.nextAttempt, [N.retryAvailableAt]: retry.availableAt });
    },
    onRunFinished(run, end) {
      const span = segments.get(run.runId)?.span;
      if (!span) return;
      span.setAttribute(N.runStatus, end.status);
      if (end.error) failed(span, end.error.code);
    },
    onRunSegmentEnded(run, { how }) {
      const segment = segments.get(run.runId);
      if (!segment || segment.run !== run) return;
      segments.delete(run.runId);
      segment.span.setAttribute(N.segmentEnd, how);
      segment.span.end();
      if (how === 'parked') {
        if (parked.size >= PARKED_LINKS_LIMIT) parked.delete(parked.keys().next().value as string);
        parked.set(run.runId, segment.span.spanContext());
      }
    },
  };
}

function runAttributes(run: RunHookInfo): Attributes {
  return {
    [N.runId]: run.runId,
    [N.organizationId]: run.organizationId,
    [N.workflowId]: run.workflowId,
    [N.workflowVersion]: run.workflowVersion,
  };
}
