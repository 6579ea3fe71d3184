import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { EditOp } from '../../client/index';
import { call, leaf, message, paged, pageQuery, parseJson, versionPageQuery, positiveInt, readSource, remote, type Context, type PageFlags } from './context';
import { UsageError } from './errors';
import { printDocument, printPage } from './output';

type PatchFlags = { file: string; ifMatch?: string; dryRun?: boolean; idempotencyKey?: string };

/** `thodare workflows list|get|triggers|concurrency|cancel-runs|rerun-runs|create|patch|revert|history|delete`. */
export function registerWorkflows(program: Command, version: string): void {
  const workflows = program.command('workflows').description('build workflows (remote: THODARE_URL or a login profile)');
  paged(leaf(workflows, 'list', "list the organization's workflows")).action(
    remote(version, async ({ client, format }, flags: PageFlags) => {
      const page = await call(client.GET('/api/workflows', { params: { query: pageQuery(flags) } }));
      printPage(format, page, ['id', 'name', 'version', 'updatedAt']);
    }),
  );
  leaf(workflows, 'get', 'a workflow: its definition, validation errors and whether it can run')
    .argument('<id>')
    .option('--at-version <n>', 'the workflow as it was at this version')
    .action(
      remote(version, async ({ client, format }, id: string, flags: { atVersion?: string }) => {
        const answer = flags.atVersion
          ? await call(client.GET('/api/workflows/{id}/versions/{version}', { params: { path: { id, version: String(positiveInt(flags.atVersion, '--at-version')) } } }))
          : await call(client.GET('/api/workflows/{id}', { params: { path: { id } } }));
        printDocument(format, answer);
      }),
    );
  leaf(workflows, 'triggers', 'what starts the workflow on its own: its schedules (next fire times) and its webhooks (their URLs)')
    .argument('<id>')
    .action(
      remote(version, async ({ client, format }, id: string) => {
        const webhooks = await call(client.GET('/api/workflows/{id}/webhooks', { params: { path: { id } } }));
        const schedules = await call(client.GET('/api/schedules', { params: { query: { workflowId: id, limit: 200 } } }));
        printDocument(format, { schedules: schedules.data, webhooks: webhooks.data });
      }),
    );
  leaf(workflows, 'concurrency', "the workflow's concurrency limit, and per key the runs holding a place and the runs queued")
    .argument('<id>')
    .action(
      remote(version, async ({ client, format }, id: string) => {
        const workflow = await call(client.GET('/api/workflows/{id}', { params: { path: { id } } }));
        const lines = [];
        let after: string | undefined;
        do {
          const page = await call(client.GET('/api/workflows/{id}/concurrency', { params: { path: { id }, query: { limit: 500, ...(after ? { after } : {}) } } }));
          lines.push(...page.data);
          after = page.next ?? undefined;
        } while (after);
        const concurrency = workflow.workflow.metadata.concurrency;
        printDocument(format, { limit: concurrency?.limit ?? null, keyPath: concurrency?.keyPath ?? null, lines });
      }),
    );
  leaf(workflows, 'cancel-runs', 'ask every run of the workflow that has not ended to stop, page after page; prints the runs asked')
    .argument('<id>')
    .option('--reason <text>', 'recorded with each run')
    .option('--started-before <instant>', 'only runs started before this ISO instant')
    .action(
      remote(version, async ({ client, format }, id: string, flags: { reason?: string; startedBefore?: string }) => {
        const cancelled: string[] = [];
        let after: string | undefined;
        do {
          const body = { limit: 500, ...(flags.reason ? { reason: flags.reason } : {}), ...(flags.startedBefore ? { startedBefore: flags.startedBefore } : {}), ...(after ? { after } : {}) };
          const page = await call(client.POST('/api/workflows/{id}/runs/cancel', { params: { path: { id } }, body }));
          cancelled.push(...page.cancelled);
          after = page.next ?? undefined;
        } while (after);
        printDocument(format, { workflowId: id, cancelled });
      }),
    );
  leaf(workflows, 'rerun-runs', 'rerun every run of the workflow that ended with a status (failed by default), from its failure, on the current version; page after page')
    .argument('<id>')
    .option('--status <status>', 'failed, cancelled or completed', 'failed')
    .option('--from <point>', 'failure or start', 'failure')
    .option('--pinned', "each run's own version instead of the current one")
    .option('--started-after <instant>', 'only runs started at or after this ISO instant')
    .option('--started-before <instant>', 'only runs started before this ISO instant')
    .action(
      remote(version, async ({ client, format }, id: string, flags: { status: string; from: string; pinned?: boolean; startedAfter?: string; startedBefore?: string }) => {
        if (!['failed', 'cancelled', 'completed'].includes(flags.status)) throw new UsageError(`--status: failed, cancelled or completed, not "${flags.status}"`);
        if (!['failure', 'start'].includes(flags.from)) throw new UsageError(`--from: failure or start, not "${flags.from}"`);
        // One key for the whole command: a page retried after a lost answer reruns nothing twice.
        const idempotencyKey = `cli-${randomUUID()}`;
        const rerun: { runId: string; rerunOf: string }[] = [];
        const refused: { runId: string; error: string }[] = [];
        let after: string | undefined;
        do {
          const body = {
            status: flags.status as 'failed' | 'cancelled' | 'completed',
            from: flags.from as 'failure' | 'start',
            workflowVersion: flags.pinned ? ('pinned' as const) : ('current' as const),
            limit: 500,
            idempotencyKey,
            ...(flags.startedAfter ? { startedAfter: flags.startedAfter } : {}),
            ...(flags.startedBefore ? { startedBefore: flags.startedBefore } : {}),
            ...(after ? { after } : {}),
          };
          const page = await call(client.POST('/api/workflows/{id}/runs/rerun', { params: { path: { id } }, body }));
          rerun.push(...page.rerun.map(({ runId, rerunOf }) => ({ runId, rerunOf })));
          refused.push(...page.refused.map(({ runId, error }) => ({ runId, error })));
          after = page.next ?? undefined;
        } while (after);
        printDocument(format, { workflowId: id, rerun, refused });
      }),
    );
  leaf(workflows, 'create', 'create a workflow, optionally applying edit ops from a file')
    .option('--name <name>')
    .option('--description <text>')
    .option('-f, --file <ops.json>', 'edit ops to apply at once (an array or {ops}; - for stdin)')
    .action(
      remote(version, async (context, flags: { name?: string; description?: string; file?: string }) => {
        const ops = flags.file ? readOps(flags.file) : undefined;
        const body = { ...(flags.name ? { name: flags.name } : {}), ...(flags.description ? { description: flags.description } : {}) };
        const created = await call(context.client.POST('/api/workflows', { body }));
        if (!ops) return printDocument(context.format, created);
        message(`created ${created.id}`);
        await patch(context, created.id, { file: flags.file ?? '' }, ops);
      }),
    );
  leaf(workflows, 'patch', 'apply edit ops; skipped ops and validation errors are reported, exit 0')
    .argument('<id>')
    .requiredOption('-f, --file <ops.json>', 'the ops: an array or {ops} (- for stdin)')
    .option('--if-match <version>', 'apply only if the workflow is still at this version (else exit 3, version_mismatch)')
    .option('--dry-run', 'show the result without storing anything')
    .option('--idempotency-key <key>', 'a retry with the same key and ops applies once')
    .action(remote(version, (context, id: string, flags: PatchFlags) => patch(context, id, flags, readOps(flags.file))));
  leaf(workflows, 'revert', "take the workflow back to a past version's content, as a new version (one patch of the ops from here to there)")
    .argument('<id>')
    .requiredOption('--to <version>', 'the past version (see `workflows history`)')
    .option('--if-match <version>', 'revert only if the workflow is still at this version (else exit 3, version_mismatch)')
    .option('--dry-run', 'show the result without storing anything')
    .action(
      remote(version, async ({ client, format }, id: string, flags: { to: string; ifMatch?: string; dryRun?: boolean }) => {
        const result = await call(
          client.POST('/api/workflows/{id}/revert', {
            params: { path: { id }, query: flags.dryRun ? { dry_run: 'true' } : {}, header: flags.ifMatch ? { 'If-Match': flags.ifMatch } : {} },
            body: { version: positiveInt(flags.to, '--to') },
          }),
        );
        printDocument(format, format === 'table' ? { id, ok: result.ok, version: result.version, revertedTo: result.revertedTo, summary: result.summary, skipped_items: result.skipped_items } : { id, ...result });
      }),
    );
  paged(leaf(workflows, 'history', "the workflow's events: applied and skipped ops, who, when"))
    .argument('<id>')
    .action(
      remote(version, async ({ client, format }, id: string, flags: PageFlags) => {
        const page = await call(client.GET('/api/workflows/{id}/history', { params: { path: { id }, query: versionPageQuery(flags) } }));
        printPage(format, page, ['version', 'type', 'recordedAt', 'actor', 'agent']);
      }),
    );
  leaf(workflows, 'delete', 'delete a workflow (runs already started finish)')
    .argument('<id>')
    .action(
      remote(version, async ({ client, format }, id: string) => {
        await call(client.DELETE('/api/workflows/{id}', { params: { path: { id } } }));
        printDocument(format, { id, deleted: true });
      }),
    );
}

async function patch({ client, format }: Context, id: string, flags: PatchFlags, ops: EditOp[]): Promise<void> {
  const result = await call(
    client.POST('/api/workflows/{id}/operations', {
      params: {
        path: { id },
        query: flags.dryRun ? { dry_run: 'true' } : {},
        header: { ...(flags.ifMatch ? { 'If-Match': flags.ifMatch } : {}), ...(flags.idempotencyKey ? { 'Idempotency-Key': flags.idempotencyKey } : {}) },
      },
      body: { ops },
    }),
  );
  const { skipped_items: skipped, validation_errors: invalid } = result;
  if (skipped.length || invalid.length) message(`version ${result.version}: ${skipped.length} op(s) skipped, ${invalid.length} validation error(s)`);
  printDocument(format, format === 'table' ? { id, ok: result.ok, version: result.version, summary: result.summary, skipped_items: skipped, validation_errors: invalid } : { id, ...result });
}

function readOps(file: string): EditOp[] {
  const parsed = parseJson(readSource(file, '--file'), '--file');
  const ops = Array.isArray(parsed) ? parsed : (parsed as { ops?: unknown } | null)?.ops;
  if (!Array.isArray(ops)) throw new UsageError('--file: expected an array of edit ops or {"ops": [...]}');
  return ops as EditOp[];
}
