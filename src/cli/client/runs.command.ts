import type { Command } from 'commander';
import type { Run, ThodareClient } from '../../client/index';
import { call, leaf, message, paged, pageQuery, positiveInt, versionPageQuery, readJson, remote, type PageFlags } from './context';
import { RunUnsuccessful, UsageError } from './errors';
import { printDocument, printPage } from './output';
import { followRun } from './run-follow';

type StartFlags = { input?: string; idempotencyKey?: string; startAt?: string; wait?: boolean; timeout?: string };
const ENDED = new Set(['completed', 'failed', 'cancelled']);
/** The longest the server holds a read of a run (`MAX_WAIT_MS`); a longer wait is several reads. */
const MAX_HELD_READ_MS = 30_000;
const POLL_MS = 500;
const RUN_COLUMNS = ['id', 'workflowId', 'workflowVersion', 'status', 'createdAt', 'endedAt'] as const;

/** `thodare runs start|list|get|events|cancel|rerun|logs`. */
export function registerRuns(program: Command, version: string): void {
  const runs = program.command('runs').description('start and follow runs (remote)');
  leaf(runs, 'start', 'start a run of a workflow')
    .argument('<workflow>', 'the workflow id')
    .option('--input <json>', 'the trigger input: JSON, @file.json or @- (stdin)')
    .option('--idempotency-key <key>', 'the same key and input start one run')
    .option('--start-at <instant>', 'a delayed start (ISO, e.g. 2026-12-24T09:00:00Z): queued until then')
    .option('--wait', 'wait for the run to end; exit 1 if it failed or was cancelled')
    .option('--timeout <seconds>', 'with --wait: give up after this long (exit 1)', '600')
    .action(
      remote(version, async ({ client, format }, workflow: string, flags: StartFlags) => {
        const body = {
          ...(flags.input !== undefined ? { input: readJson(flags.input, '--input') } : {}),
          ...(flags.idempotencyKey ? { idempotencyKey: flags.idempotencyKey } : {}),
          ...(flags.startAt ? { startAt: flags.startAt } : {}),
        };
        const timeoutMs = positiveInt(flags.timeout ?? '600', '--timeout') * 1000;
        const accepted = await call(client.POST('/api/workflows/{id}/runs', { params: { path: { id: workflow } }, body }));
        if (!flags.wait) return printDocument(format, accepted);
        const runId = 'runId' in accepted ? accepted.runId : accepted.id;
        message(`run ${runId} started; waiting`);
        const run = await waitForEnd(client, runId, timeoutMs);
        printDocument(format, run);
        if (!ENDED.has(run.status)) throw new RunUnsuccessful(`run ${runId} is still ${run.status} after ${timeoutMs / 1000} s`);
        if (run.status !== 'completed') throw new RunUnsuccessful(`run ${runId} ${run.status}${run.error ? `: ${run.error.code}: ${run.error.message}` : ''}`);
      }),
    );
  paged(leaf(runs, 'list', 'list runs, newest first'))
    .option('--workflow <id>', "only this workflow's runs")
    .option('--status <status>', 'queued, running, sleeping, waiting, completed, failed or cancelled')
    .action(
      remote(version, async ({ client, format }, flags: PageFlags & { workflow?: string; status?: Run['status'] }) => {
        const query = { ...pageQuery(flags), ...(flags.workflow ? { workflowId: flags.workflow } : {}), ...(flags.status ? { status: flags.status } : {}) };
        printPage(format, await call(client.GET('/api/runs', { params: { query } })), RUN_COLUMNS);
      }),
    );
  leaf(runs, 'get', 'a run: status, input, outputs, error, what it waits for')
    .argument('<id>')
    .action(remote(version, async ({ client, format }, id: string) => printDocument(format, await call(client.GET('/api/runs/{id}', { params: { path: { id } } })))));
  paged(leaf(runs, 'events', "the run's raw events"))
    .argument('<id>')
    .action(
      remote(version, async ({ client, format }, id: string, flags: PageFlags) => {
        const page = await call(client.GET('/api/runs/{id}/events', { params: { path: { id }, query: versionPageQuery(flags) } }));
        printPage(format, page, ['version', 'type', 'recordedAt']);
      }),
    );
  leaf(runs, 'cancel', 'cancel a run')
    .argument('<id>')
    .action(remote(version, async ({ client, format }, id: string) => printDocument(format, { id, ...(await call(client.POST('/api/runs/{id}/cancel', { params: { path: { id } } }))) })));
  leaf(runs, 'rerun', 'start an ended run again, from its failure (what succeeded keeps its outputs), --from-block or --from-start')
    .argument('<id>')
    .option('--from-start', 'run every step again')
    .option('--from-block <blockId>', 'run this block and everything after it again; the rest keeps its outputs')
    .option('--current-version', "run the workflow's version now (after a repair), not the one the run ran")
    .option('--idempotency-key <key>', 'the same key and request start one rerun')
    .action(
      remote(version, async ({ client, format }, id: string, flags: { fromStart?: boolean; fromBlock?: string; currentVersion?: boolean; idempotencyKey?: string }) => {
        if (flags.fromStart && flags.fromBlock !== undefined) throw new UsageError('--from-start and --from-block exclude each other');
        const body = {
          ...(flags.fromBlock !== undefined ? { from: 'block' as const, blockId: flags.fromBlock } : { from: flags.fromStart ? ('start' as const) : ('failure' as const) }),
          workflowVersion: flags.currentVersion ? ('current' as const) : ('pinned' as const),
          ...(flags.idempotencyKey ? { idempotencyKey: flags.idempotencyKey } : {}),
        };
        printDocument(format, await call(client.POST('/api/runs/{id}/rerun', { params: { path: { id } }, body })));
      }),
    );
  paged(leaf(runs, 'logs', 'step attempts; --follow prints them live until the run ends'))
    .argument('<id>')
    .option('-f, --follow', "follow the run's live stream (reconnecting) until it ends; exit 1 if it failed or was cancelled")
    .action(
      remote(version, async ({ client, format }, id: string, flags: PageFlags & { follow?: boolean }) => {
        if (!flags.follow) {
          const page = await call(client.GET('/api/runs/{id}/logs', { params: { path: { id }, query: pageQuery(flags) } }));
          return printPage(format, page, ['blockId', 'blockType', 'attempt', 'status', 'durationMs', 'error.code']);
        }
        const ending = await followRun(client, id, format);
        if (ending !== 'completed') throw new RunUnsuccessful(`run ${id} ${ending}`);
        message(`run ${id} completed`);
      }),
    );
}

/** Reads the run, each read held by the server until it ends (`?waitMs=`), until it ends or `timeoutMs` passes; answers its last state. */
async function waitForEnd(client: ThodareClient, id: string, timeoutMs: number): Promise<Run> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const asked = Date.now();
    const waitMs = Math.max(0, Math.min(until - asked, MAX_HELD_READ_MS));
    const run = await call(client.GET('/api/runs/{id}', { params: { path: { id }, query: { waitMs } } }));
    if (ENDED.has(run.status) || Date.now() >= until) return run;
    // Back early and not ended: a server that does not hold reads (older than `?waitMs=`) is polled, not hammered.
    if (Date.now() - asked < waitMs) await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, until - Date.now()))));
  }
}
