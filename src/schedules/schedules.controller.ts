import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { z } from 'zod';
import { NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { recordAdminTick } from './admin-tick';
import { BackfillScheduleCommand, MAX_BACKFILL_TICKS } from './backfill-schedule.command';
import { CreateScheduleCommand } from './create-schedule.command';
import { DeleteScheduleCommand } from './delete-schedule.command';
import { listSchedules, scheduleRowOf, scheduleView, tickLedger } from './schedule-rows';
import { SchedulerPass } from './scheduler-pass';
import {
  adminTickBody,
  backfillBody,
  backfillResponse,
  createScheduleBody,
  listSchedulesQuery,
  passResponse,
  scheduleListResponse,
  scheduleResponse,
  ticksQuery,
  ticksResponse,
  triggerBody,
  updateScheduleBody,
} from './schedules.schemas';
import { TriggerScheduleCommand } from './trigger-schedule.command';
import { UpdateScheduleCommand } from './update-schedule.command';

/** Schedules of the caller's organization (another organization's ids are 404). */
@Controller('api')
export class SchedulesController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(Pool) private readonly pool: Pool,
    @Inject(SchedulerPass) private readonly scheduler: SchedulerPass,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  @Post('schedules')
  @HttpCode(201)
  @RequireRole('member')
  @ApiRoute({
    summary: 'Create a schedule for a workflow (source "api")',
    description: '400 invalid_cron / invalid_timezone (with `suggestion` when one can be inferred); 404 workflow_not_found.',
    tags: ['schedules'],
    body: createScheduleBody,
    responses: { 201: scheduleResponse },
  })
  create(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Body() body: z.infer<typeof createScheduleBody>) {
    return this.commands.execute(new CreateScheduleCommand(principal.organizationId, body, meta));
  }

  @Get('schedules')
  @RequireRole('viewer')
  @ApiRoute({ summary: "The organization's schedules, from workflows' trigger blocks and from this API", tags: ['schedules'], query: listSchedulesQuery, responses: { 200: scheduleListResponse } })
  list(@CurrentPrincipal() principal: Principal, @Query() query: z.infer<typeof listSchedulesQuery>) {
    return listSchedules(this.pool, principal.organizationId, { limit: query.limit, ...(query.after ? { after: query.after } : {}), ...(query.workflowId ? { workflowId: query.workflowId } : {}) });
  }

  @Get('schedules/:id')
  @RequireRole('viewer')
  @ApiRoute({ summary: 'A schedule, its next fire time and the 5 after', tags: ['schedules'], responses: { 200: scheduleResponse } })
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    const row = await scheduleRowOf(this.pool, principal.organizationId, id);
    if (!row) throw new NotFound('schedule');
    return scheduleView(row);
  }

  @Patch('schedules/:id')
  @RequireRole('member')
  @ApiRoute({
    summary: 'Change, pause or resume a schedule',
    description: 'A schedule defined by a workflow block only pauses and resumes here (its definition is 409 owned_by_workflow: patch the block).',
    tags: ['schedules'],
    body: updateScheduleBody,
    responses: { 200: scheduleResponse },
  })
  update(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') id: string, @Body() body: z.infer<typeof updateScheduleBody>) {
    return this.commands.execute(new UpdateScheduleCommand(principal.organizationId, id, body, meta, new Date()));
  }

  @Delete('schedules/:id')
  @HttpCode(204)
  @RequireRole('member')
  @ApiRoute({ summary: 'Remove a schedule (409 owned_by_workflow for a block-defined one)', tags: ['schedules'], responses: { 204: 'removed' } })
  async remove(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') id: string) {
    await this.commands.execute(new DeleteScheduleCommand(principal.organizationId, id, meta));
  }

  @Get('schedules/:id/ticks')
  @RequireRole('viewer')
  @ApiRoute({ summary: "The schedule's tick ledger: each due tick fired (runId), buffered or skipped (reason)", tags: ['schedules'], query: ticksQuery, responses: { 200: ticksResponse } })
  async ticks(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: z.infer<typeof ticksQuery>) {
    if (!(await scheduleRowOf(this.pool, principal.organizationId, id))) throw new NotFound('schedule');
    return tickLedger(this.pool, id, { limit: query.limit, ...(query.after ? { after: query.after } : {}) });
  }

  @Post('schedules/:id/trigger')
  @HttpCode(200)
  @RequireRole('member')
  @ApiRoute({ summary: 'Fire the schedule now (under its overlap policy, or the one given)', tags: ['schedules'], body: triggerBody, responses: { 200: passResponse } })
  trigger(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') id: string, @Body() body: z.infer<typeof triggerBody> | undefined) {
    return this.commands.execute(new TriggerScheduleCommand(principal.organizationId, id, meta, new Date(), body?.overlap));
  }

  @Post('schedules/:id/backfill')
  @HttpCode(200)
  @RequireRole('member')
  @ApiRoute({
    summary: `Fire every tick in [from, to] (at most ${MAX_BACKFILL_TICKS}), ignoring the overlap policy`,
    description: 'Ticks that fired before are listed in alreadyFired and never fire twice; 400 backfill_too_large beyond the limit.',
    tags: ['schedules'],
    body: backfillBody,
    responses: { 200: backfillResponse },
  })
  backfill(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') id: string, @Body() body: z.infer<typeof backfillBody>) {
    return this.commands.execute(new BackfillScheduleCommand(principal.organizationId, id, new Date(body.from), new Date(body.to), meta));
  }

  @Post('admin/tick')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiRoute({
    summary: "Run one scheduler pass over this organization's schedules",
    description: '`now` (default: the server clock) is the instant the pass fires ticks for — tests and operators use it to replay an outage.',
    tags: ['schedules'],
    body: adminTickBody,
    responses: { 200: passResponse },
  })
  async tick(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Body() body: z.infer<typeof adminTickBody> | undefined) {
    const now = body?.now ? new Date(body.now) : new Date();
    const result = await this.scheduler.pass(now, meta, principal.organizationId);
    await recordAdminTick(this.store, principal.organizationId, now, result, meta);
    return result;
  }
}
