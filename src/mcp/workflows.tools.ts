import { z } from 'zod';
import { cappedPage } from './capped-page';
import { capped, fromAnswer, success } from './tool-result';
import { ADD, cursorInput, objectOutput, pageOutput, READ, seg, write, type Toolset } from './toolset';

const workflowOutput = objectOutput({ id: z.string(), version: z.number() });
const patchOutput = objectOutput({
  ok: z.boolean(),
  version: z.number(),
  runnable: z.boolean(),
  skipped_items: z.array(z.unknown()).describe('ops not applied, each with reason_code and, when known, a suggestion (an op to send instead)'),
  validation_errors: z.array(z.unknown()).describe('what keeps the workflow from running, each with a suggestion when known'),
  summary: z.string(),
});

/** The `workflows` toolset: list, read (with what triggers them), create, patch (EditOps) and revert workflows. */
export function registerWorkflowTools({ server, caller }: Toolset): void {
  server.registerTool(
    'workflows_list',
    {
      title: 'List workflows',
      description: "The organization's workflows, oldest first.",
      inputSchema: { ...cursorInput, limit: z.number().int().min(1).max(200).default(50) },
      outputSchema: pageOutput,
      annotations: READ,
    },
    ({ after, limit }) => cappedPage((size) => caller.call('GET', '/api/workflows', { query: { after, limit: size } }), limit),
  );
  server.registerTool(
    'workflow_get',
    {
      title: 'Get a workflow',
      description: 'A workflow: blocks, connections, version (send it as if_match to workflow_patch) and validation_errors.',
      inputSchema: { id: z.string().min(1).max(200) },
      outputSchema: workflowOutput,
      annotations: READ,
    },
    async ({ id }) => fromAnswer(await caller.call('GET', `/api/workflows/${seg(id)}`)),
  );
  server.registerTool(
    'workflow_triggers',
    {
      title: "A workflow's triggers",
      description:
        "What starts the workflow on its own: its schedules (cron, state, nextFireAt, the next fire times, lastRunId) and its webhooks (the URL to give whoever sends the requests: its token is the credential; signing; idempotencyKeyPath). A trigger_schedule or trigger_webhook block added with workflow_patch shows here once patched; a trigger_event block starts the workflow on event_publish of its eventName.",
      inputSchema: { workflow_id: z.string().min(1).max(200) },
      outputSchema: objectOutput({ schedules: z.array(z.unknown()), webhooks: z.array(z.unknown()) }),
      annotations: READ,
    },
    async ({ workflow_id }) => {
      // The webhooks route answers 404 for another organization's workflow; the schedules list would be empty.
      const webhooks = await caller.call('GET', `/api/workflows/${seg(workflow_id)}/webhooks`);
      if (webhooks.status >= 400) return fromAnswer(webhooks);
      const schedules = await caller.call('GET', '/api/schedules', { query: { workflowId: workflow_id, limit: 200 } });
      if (schedules.status >= 400) return fromAnswer(schedules);
      const data = (answer: { body: unknown }) => (answer.body as { data: unknown[] }).data;
      return success(capped({ schedules: data(schedules), webhooks: data(webhooks) }));
    },
  );
  server.registerTool(
    'workflow_create',
    {
      title: 'Create a workflow',
      description: 'An empty workflow (version 1); add blocks and connections with workflow_patch.',
      inputSchema: { name: z.string().min(1).max(200), description: z.string().max(2000).optional() },
      outputSchema: workflowOutput,
      annotations: ADD,
    },
    write(caller, async ({ name, description }) => fromAnswer(await caller.call('POST', '/api/workflows', { body: { name, ...(description !== undefined ? { description } : {}) } }))),
  );
  server.registerTool(
    'workflow_patch',
    {
      title: 'Patch a workflow',
      description:
        'Apply EditOps (at most 200; operation_type add | update | remove | connect | disconnect …). Bad ops are skipped, not fatal: read skipped_items[].suggestion and validation_errors[].suggestion, and send the suggestions as the next ops. dry_run stores nothing; if_match refuses (version_mismatch) when the workflow is no longer at that version.',
      inputSchema: {
        id: z.string().min(1).max(200),
        ops: z.array(z.record(z.string(), z.unknown())).max(200).describe('EditOps, as the REST route takes them'),
        dry_run: z.boolean().default(false),
        if_match: z.number().int().min(1).optional().describe('the version you read'),
        idempotency_key: z.string().min(1).max(200).optional(),
      },
      outputSchema: patchOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    write(caller, async ({ id, ops, dry_run, if_match, idempotency_key }) => {
      const headers: Record<string, string> = {};
      if (if_match !== undefined) headers['if-match'] = String(if_match);
      if (idempotency_key) headers['idempotency-key'] = idempotency_key;
      return fromAnswer(await caller.call('POST', `/api/workflows/${seg(id)}/operations`, { body: { ops }, query: { dry_run }, headers }));
    }),
  );
  server.registerTool(
    'workflow_revert',
    {
      title: 'Revert a workflow to a past version',
      description:
        "Take the workflow back to a past version's content, as a new version: the EditOps from here to there, applied as one patch (the result is a patch result, with revertedTo). dry_run stores nothing; if_match refuses (version_mismatch) when the workflow is no longer at that version.",
      inputSchema: {
        id: z.string().min(1).max(200),
        version: z.number().int().min(1).describe('the past version (see the workflow history)'),
        dry_run: z.boolean().default(false),
        if_match: z.number().int().min(1).optional().describe('the version you read'),
      },
      outputSchema: patchOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    write(caller, async ({ id, version, dry_run, if_match }) => {
      const headers: Record<string, string> = if_match !== undefined ? { 'if-match': String(if_match) } : {};
      return fromAnswer(await caller.call('POST', `/api/workflows/${seg(id)}/revert`, { body: { version }, query: { dry_run }, headers }));
    }),
  );
}
