import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { z } from 'zod';
import { NotFound } from '../errors';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { WorkflowHistoryQuery } from './workflow-history.query';
import { WorkflowVersionQuery } from './workflow-version.query';
import { historyQuery, historyResponse, versionResponse } from './workflow.schemas';

/** The audit side of a workflow: every event of its stream, and any past version. */
@Controller('api/workflows')
export class WorkflowHistoryController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get(':id/history')
  @RequireRole('viewer')
  @ApiRoute({
    summary: 'Every event of the workflow: applied and skipped ops with actor, agent label, time and resulting version',
    tags: ['workflows'],
    query: historyQuery,
    responses: { 200: historyResponse },
  })
  history(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: z.infer<typeof historyQuery>) {
    return this.queries.execute(new WorkflowHistoryQuery(principal.organizationId, id, query.after, query.limit));
  }

  @Get(':id/versions/:version')
  @RequireRole('viewer')
  @ApiRoute({ summary: 'The workflow as it was at one version', tags: ['workflows'], responses: { 200: versionResponse } })
  version(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Param('version') version: string) {
    if (!/^[1-9]\d{0,8}$/.test(version)) throw new NotFound(`version ${version.slice(0, 20)} of the workflow`);
    return this.queries.execute(new WorkflowVersionQuery(principal.organizationId, id, Number(version)));
  }
}
