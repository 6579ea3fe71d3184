/**
 * Organization events Thodare publishes itself, under the reserved `thodare.` prefix: a
 * `trigger_event` block on one of them starts a workflow when it happens (an error-handling
 * workflow on `thodare.run.failed`).
 */
export const SYSTEM_EVENT_PREFIX = 'thodare.';

/** A run failed. Payload: `{runId, workflowId, workflowVersion, error, failedAt}`; correlation key: the workflow id. */
export const RUN_FAILED_EVENT = `${SYSTEM_EVENT_PREFIX}run.failed`;
