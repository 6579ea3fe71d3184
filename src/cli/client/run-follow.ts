import type { ThodareClient } from '../../client/index';
import { call, message } from './context';
import { ApiFailure } from './errors';
import type { Format } from './output';
import { sseMessages } from './sse';

type Ending = 'completed' | 'failed' | 'cancelled';
const ENDINGS: Record<string, Ending> = { RunCompleted: 'completed', RunFailed: 'failed', RunCancelled: 'cancelled' };
const SHOWN = new Set(['StepAttemptStarted', 'StepAttemptSucceeded', 'StepAttemptFailed', 'StepRetryScheduled', 'StepSkipped', 'StepReused', 'RunSleeping', 'RunWaitingForEvent', 'ApprovalRequested', 'WaitCompleted', 'RunCancelRequested', ...Object.keys(ENDINGS)]);
const MAX_FAILED_CONNECTS = 8;

interface EventView {
  version: number;
  type: string;
  data: Record<string, unknown>;
  recordedAt: string;
}

/**
 * Follows `GET /api/runs/:id/stream`, printing each step attempt as it starts and ends, until
 * the run ends. A dropped connection (or a 5xx / 429) reconnects with back-off from the last
 * event id; a 4xx ends the command. Answers how the run ended.
 */
export async function followRun(client: ThodareClient, runId: string, format: Format): Promise<Ending> {
  let lastId: string | undefined;
  let failures = 0;
  const blockTypes = new Map<string, string>();
  for (;;) {
    try {
      const body = await call(
        client.GET('/api/runs/{id}/stream', { params: { path: { id: runId } }, headers: lastId ? { 'last-event-id': lastId } : {}, parseAs: 'stream' }),
      );
      if (!body) throw new ApiFailure(0, 'unreachable', 'the stream answered without a body');
      for await (const sse of sseMessages(body)) {
        failures = 0;
        if (sse.id) lastId = sse.id;
        const event = JSON.parse(sse.data) as EventView;
        if (event.type === 'StepAttemptStarted') blockTypes.set(String(event.data.blockId), String(event.data.blockType));
        if (SHOWN.has(event.type)) print(format, event, blockTypes);
        const ending = ENDINGS[event.type];
        if (ending) return ending;
      }
      // The server closed the stream before the run ended (a deploy, a proxy's idle timeout).
      if (++failures > MAX_FAILED_CONNECTS) throw new ApiFailure(0, 'unreachable', 'the stream keeps closing before the run ends');
      message('stream: closed before the run ended; reconnecting');
    } catch (error) {
      // A connection cut mid-body surfaces as a plain network error from the body's reader.
      const failure = error instanceof ApiFailure ? error : new ApiFailure(0, 'unreachable', error instanceof Error ? error.message : String(error));
      if (!retryable(failure) || ++failures > MAX_FAILED_CONNECTS) throw failure;
      message(`stream: ${failure.code}: ${failure.message}; reconnecting`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** failures, 10_000)));
  }
}

function retryable(error: ApiFailure): boolean {
  return error.status === 0 || error.status === 429 || error.status >= 500;
}

function print(format: Format, event: EventView, blockTypes: ReadonlyMap<string, string>): void {
  const { input: _input, output: _output, outputs: _outputs, ...data } = event.data;
  if (format !== 'table') {
    process.stdout.write(`${JSON.stringify({ version: event.version, type: event.type, recordedAt: event.recordedAt, ...data })}\n`);
    return;
  }
  const block = typeof data.blockId === 'string' ? `${data.blockId} (${blockTypes.get(data.blockId) ?? '?'})` : 'run';
  process.stdout.write(`${event.recordedAt}  ${block}  ${describe(event.type, data)}\n`);
}

function describe(type: string, data: Record<string, unknown>): string {
  const error = data.error as { code?: string; message?: string } | undefined;
  switch (type) {
    case 'StepAttemptStarted':
      return `attempt ${String(data.attempt)} started`;
    case 'StepAttemptSucceeded':
      return `attempt ${String(data.attempt)} succeeded in ${String(data.durationMs)} ms`;
    case 'StepAttemptFailed':
      return `attempt ${String(data.attempt)} failed${data.terminal ? '' : ' (will retry)'}: ${error?.code}: ${error?.message}`;
    case 'StepRetryScheduled':
      return `attempt ${String(data.nextAttempt)} at ${String(data.availableAt)}`;
    case 'StepSkipped':
      return `skipped (${String(data.reason)})`;
    case 'StepReused':
      return `output reused from run ${String(data.fromRunId)}`;
    case 'RunSleeping':
      return `sleeping until ${String(data.until)}`;
    case 'RunWaitingForEvent':
      return `waiting for event ${String(data.eventName)}`;
    case 'ApprovalRequested':
      return `waiting for approval (token ${String(data.token)})`;
    case 'WaitCompleted':
      return `wait ended (${String(data.reason)})`;
    case 'RunFailed':
      return `failed: ${error?.code}: ${error?.message}`;
    default:
      return type.replace(/^Run/, '').toLowerCase();
  }
}
