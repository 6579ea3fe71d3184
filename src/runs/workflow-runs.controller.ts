import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { EventMetadata } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { GetRunQuery } from './get-run.query';
import { RunWaiter, WAIT_HEADER, WAIT_SKIPPED_NOTE } from './run-waiter';
import { CancelWorkflowRunsCommand } from './cancel-workflow-runs.command';
import {
  cancelWorkflowRunsBody,
  cancelWorkflowRunsResponse,
  concurrencyQuery,
  MAX_WAIT_MS,
  rerunWorkflowRunsBody,
  rerunWorkflowRunsResponse,
  runResponse,
  startBody,
  startResponse,
  waitForEndQuery,
  workflowConcurrencyResponse,
} from './runs.schemas';
import { RerunWorkflowRunsCommand } from './rerun-workflow-runs.command';
import { GetWorkflowConcurrencyQuery } from './get-workflow-concurrency.query';
import { StartRunCommand } from './start-run.command';

/** `POST /api/workflows/:id/runs` (and the alias `…/run`): start a run of the current version; `…/runs/cancel` and `…/runs/rerun`: stop or rerun its runs in bulk; `…/concurrency`: its concurrency lines. */
@Controller('api/workflows')
export class WorkflowRunsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(RunWaiter) private readonly waiter: RunWaiter,
  ) {}

  @Post([':id/runs', ':id/run'])
  @HttpCode(202)
  @RequireRole('member')
  @ApiRoute({
    summary: 'Start a run of the workflow (pins its current version); ?waitMs= waits for the end',
    description: `202 {runId, status, workflowVersion}; with waitMs (capped at ${MAX_WAIT_MS} ms) a run that ends in time is answered 200 with the run. ${WAIT_SKIPPED_NOTE}`,
    tags: ['runs'],
    body: startBody,
    query: waitForEndQuery,
    responses: { 202: startResponse, 200: runResponse },
    errors: {
      409: 'idempotency_conflict: the idempotencyKey was used with another body',
      422: 'workflow_not_runnable (with `validation_errors`) or secret_missing (with `missing`)',
    },
  })
  async start(
    @CurrentPrincipal() principal: Principal,
    @RequestMeta() meta: EventMetadata,
    @Param('id') workflowId: string,
    @Body() body: z.infer<typeof startBody>,
    @Query() query: z.infer<typeof waitForEndQuery>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const started = await this.commands.execute(
      new StartRunCommand(principal.organizationId, workflowId, body.input, meta, {
        ...(body.idempotencyKey ? { idempotencyKey: body.idempotencyKey } : {}),
        ...(body.startAt ? { startAt: new Date(body.startAt) } : {}),
      }),
    );
    const ended = await this.waiter.endedRun(principal.organizationId, started.runId, query.waitMs ?? 0, () => this.queries.execute(new GetRunQuery(principal.organizationId, started.runId)));
    if (ended.skipped) void reply.header(WAIT_HEADER, 'skipped');
    if (!ended.run) return started;
    void reply.status(200);
    return ended.run;
  }

  @Post(':id/runs/rerun')
  @HttpCode(202)
  @RequireRole('member')
  @ApiRoute({
    summary: 'Rerun every run of the workflow that ended with a status (failed by default: the replay after a repair), oldest first, up to limit per call; then again with after = next',
    description:
      'Each run is rerun as POST /api/runs/:id/rerun would rerun it (from its failure on the current version by default); one that cannot be is listed in refused and the others go on. An idempotencyKey makes a retried call answer the same reruns. Also for a deleted workflow (each rerun is then refused with workflow_not_found).',
    tags: ['runs'],
    body: rerunWorkflowRunsBody,
    responses: { 202: rerunWorkflowRunsResponse },
  })
  rerunAll(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') workflowId: string, @Body() body: z.infer<typeof rerunWorkflowRunsBody>) {
    const { status = 'failed', from = 'failure', workflowVersion = 'current', limit = 100, ...rest } = body ?? {};
    const optional = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
    return this.commands.execute(new RerunWorkflowRunsCommand(principal.organizationId, workflowId, { status, from, workflowVersion, limit, ...optional }, meta));
  }

  @Get(':id/concurrency')
  @ApiRoute({
    summary: "The workflow's concurrency lines that hold or queue runs now: per key, the runs running and queued (its limit is the workflow's metadata.concurrency)",
    description: 'Also for a deleted workflow (its queued runs still take turns). 404 for a workflow the organization never had.',
    tags: ['runs'],
    query: concurrencyQuery,
    responses: { 200: workflowConcurrencyResponse },
  })
  concurrency(@CurrentPrincipal() principal: Principal, @Param('id') workflowId: string, @Query() query: z.infer<typeof concurrencyQuery>) {
    return this.queries.execute(new GetWorkflowConcurrencyQuery(principal.organizationId, workflowId, { limit: query.limit, ...(query.after ? { after: query.after } : {}) }));
  }

  @Post(':id/runs/cancel')
  @HttpCode(202)
  @RequireRole('member')
  @ApiRoute({
    summary: 'Ask every run of the workflow that has not ended to stop (oldest first, up to limit per call; then again with after = next)',
    description: 'Each run is cancelled as POST /api/runs/:id/cancel would cancel it, and records who asked and the reason. Also for the runs of a deleted workflow.',
    tags: ['runs'],
    body: cancelWorkflowRunsBody,
    responses: { 202: cancelWorkflowRunsResponse },
  })
  cancelAll(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') workflowId: string, @Body() body: z.infer<typeof cancelWorkflowRunsBody>) {
    const request = { limit: body?.limit ?? 100, ...(body?.reason ? { reason: body.reason } : {}), ...(body?.startedBefore ? { startedBefore: body.startedBefore } : {}), ...(body?.after ? { after: body.after } : {}) };
    return this.commands.execute(new CancelWorkflowRunsCommand(principal.organizationId, workflowId, request, meta));
  }
}
