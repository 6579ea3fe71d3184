import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { RUN_TERMINAL_STATUSES } from '../domain/run/run.state';
import type { RerunPoint } from '../domain/run/run.events';
import type { EventMetadata } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { publicBaseUrl } from '../http/public-url';
import { withApprovalUrl } from './approval-url';
import { CancelRunCommand } from './cancel-run.command';
import { RerunRunCommand } from './rerun-run.command';
import { GetRunQuery } from './get-run.query';
import { ListRunsQuery } from './list-runs.query';
import { RunEventsQuery } from './run-events.query';
import { DEFAULT_LOGS_WAIT_MS, RunLogsQuery } from './run-logs.query';
import { RunWaiter, WAIT_HEADER, WAIT_SKIPPED_NOTE } from './run-waiter';
import {
  cancelBody,
  cancelResponse,
  eventsQuery,
  eventsResponse,
  listRunsQuery,
  logsQuery,
  logsResponse,
  MAX_WAIT_MS,
  rerunBody,
  rerunResponse,
  runListResponse,
  runResponse,
  signalBody,
  signalResponse,
  waitForEndQuery,
} from './runs.schemas';
import { SignalRunCommand } from './signal-run.command';

/** Reading and controlling runs; every route is scoped to the caller's organization (others' ids are 404). */
@Controller('api/runs')
export class RunsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(RunWaiter) private readonly waiter: RunWaiter,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiRoute({ summary: "The organization's runs, newest first, by workflow and status (keyset cursor)", tags: ['runs'], query: listRunsQuery, responses: { 200: runListResponse } })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: z.infer<typeof listRunsQuery>, @Req() request: FastifyRequest) {
    const { workflowId, status, after, limit } = query;
    const page = await this.queries.execute(new ListRunsQuery(principal.organizationId, { limit, ...(workflowId ? { workflowId } : {}), ...(status ? { status } : {}), ...(after ? { after } : {}) }));
    const base = publicBaseUrl(this.config, request);
    return { ...page, data: page.data.map((run) => withApprovalUrl(run, base)) };
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiRoute({
    summary: 'A run: status, outputs per block, error, what it waits for; ?waitMs= waits for the end',
    description: `With waitMs (capped at ${MAX_WAIT_MS} ms) a run that has not ended is answered when it ends, or as it is when the wait runs out: always 200, read the status. ${WAIT_SKIPPED_NOTE}`,
    tags: ['runs'],
    query: waitForEndQuery,
    responses: { 200: runResponse },
  })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: z.infer<typeof waitForEndQuery>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const read = () => this.queries.execute(new GetRunQuery(principal.organizationId, id));
    let run = await read(); // another organization's run is a 404 before any wait
    if (query.waitMs && !RUN_TERMINAL_STATUSES.includes(run.status)) {
      const ended = await this.waiter.endedRun(principal.organizationId, id, query.waitMs, read);
      if (ended.skipped) void reply.header(WAIT_HEADER, 'skipped');
      else run = ended.run ?? (await read()); // not ended when the wait ran out: the run as it is now
    }
    return withApprovalUrl(run, publicBaseUrl(this.config, request));
  }

  @Get(':id/logs')
  @RequireRole('viewer')
  @ApiRoute({
    summary: 'One row per step attempt (hidden values shown as "[hidden]"), keyset-paginated',
    description: `Waits (up to waitMs, default ${DEFAULT_LOGS_WAIT_MS} ms, capped at ${MAX_WAIT_MS} ms) until the logs cover the run's latest event: a finished run's logs hold every attempt.`,
    tags: ['runs'],
    query: logsQuery,
    responses: { 200: logsResponse },
  })
  logs(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: z.infer<typeof logsQuery>) {
    const page = { limit: query.limit, ...(query.after ? { after: query.after } : {}) };
    return this.queries.execute(new RunLogsQuery(principal.organizationId, id, page, Math.min(query.waitMs ?? DEFAULT_LOGS_WAIT_MS, MAX_WAIT_MS)));
  }

  @Get(':id/events')
  @RequireRole('viewer')
  @ApiRoute({ summary: "The run's raw event stream after a version", tags: ['runs'], query: eventsQuery, responses: { 200: eventsResponse } })
  events(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: z.infer<typeof eventsQuery>) {
    return this.queries.execute(new RunEventsQuery(principal.organizationId, id, query));
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @RequireRole('member')
  @ApiRoute({ summary: 'Cancel a run: running calls are aborted, nothing downstream runs; 409 run_finished', tags: ['runs'], body: cancelBody, responses: { 202: cancelResponse }, errors: { 409: 'run_finished: the run already ended' } })
  cancel(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') id: string, @Body() body: z.infer<typeof cancelBody>) {
    return this.commands.execute(new CancelRunCommand(principal.organizationId, id, meta, body?.reason));
  }

  @Post(':id/rerun')
  @HttpCode(202)
  @RequireRole('member')
  @ApiRoute({
    summary: "Start a new run of an ended run's input, on its version or the workflow's current one; from the failure (default) or a chosen block, what succeeded before it is not run again",
    description:
      'The new run names the run it reruns (`rerunOf`); each block it takes an output from is recorded as a `StepReused` event and a log row of attempt 0. A block runs again when anything upstream of it does, and, on the current version, when it or what feeds it changed. The run rerun is left as it was. On the current version: 422 workflow_not_runnable, 400 invalid_input as for a start.',
    tags: ['runs'],
    body: rerunBody,
    responses: { 202: rerunResponse },
    errors: { 400: 'invalid_input: on the current version, the input no longer fits the trigger', 404: 'not_found: no such run; workflow_not_found: its workflow was deleted', 422: 'workflow_not_runnable: the current version cannot run; block_not_found: from=block names a block the version run does not have', 409: 'run_not_ended: the run has not ended; run_not_failed: a rerun from the failure of a run that completed; idempotency_conflict: the key was used for another request' },
  })
  rerun(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') id: string, @Body() body: z.infer<typeof rerunBody>) {
    const point: RerunPoint = body?.from === 'block' ? { from: 'block', blockId: body.blockId! } : { from: body?.from ?? 'failure' };
    const request = { point, workflowVersion: body?.workflowVersion ?? 'pinned', ...(body?.idempotencyKey ? { idempotencyKey: body.idempotencyKey } : {}) };
    return this.commands.execute(new RerunRunCommand(principal.organizationId, id, request, meta));
  }

  @Post(':id/signals')
  @HttpCode(202)
  @RequireRole('member')
  @ApiRoute({ summary: "Send a signal to the run (stored even if it does not wait yet); resumes its wait_for_event on that name", tags: ['runs'], body: signalBody, responses: { 202: signalResponse } })
  signal(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') id: string, @Body() body: z.infer<typeof signalBody>) {
    const { name, payload, idempotencyKey } = body;
    return this.commands.execute(new SignalRunCommand(principal.organizationId, id, { name, ...(payload !== undefined ? { payload } : {}), ...(idempotencyKey ? { idempotencyKey } : {}) }, meta));
  }
}
