import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { EventMetadata } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { CreateWorkflowCommand } from './create-workflow.command';
import { DeleteWorkflowCommand } from './delete-workflow.command';
import { GetWorkflowQuery } from './get-workflow.query';
import { versionTag } from './if-match';
import { ListWorkflowsQuery } from './list-workflows.query';
import { createBody, createdResponse, listQuery, listResponse, workflowResponse } from './workflow.schemas';

/** Workflow CRUD; every route is scoped to the caller's organization (others' ids are 404). */
@Controller('api/workflows')
export class WorkflowsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post()
  @RequireRole('member')
  @ApiRoute({ summary: 'Create an empty workflow (version 1)', tags: ['workflows'], body: createBody, responses: { 201: createdResponse } })
  create(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Body() body: z.infer<typeof createBody>) {
    return this.commands.execute(new CreateWorkflowCommand(principal.organizationId, body.name, body.description, meta));
  }

  @Get()
  @RequireRole('viewer')
  @ApiRoute({ summary: "The organization's workflows, oldest first (keyset cursor)", tags: ['workflows'], query: listQuery, responses: { 200: listResponse } })
  list(@CurrentPrincipal() principal: Principal, @Query() query: z.infer<typeof listQuery>) {
    return this.queries.execute(new ListWorkflowsQuery(principal.organizationId, query.after, query.limit));
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiRoute({ summary: 'A workflow with its validation errors; ETag is its version', tags: ['workflows'], responses: { 200: workflowResponse } })
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const view = await this.queries.execute(new GetWorkflowQuery(principal.organizationId, id));
    void reply.header('etag', versionTag(view.version));
    return view;
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireRole('member')
  @ApiRoute({ summary: 'Soft-delete a workflow (runs already started are not affected)', tags: ['workflows'], responses: { 204: 'deleted' } })
  async remove(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') id: string): Promise<void> {
    await this.commands.execute(new DeleteWorkflowCommand(principal.organizationId, id, meta));
  }
}
