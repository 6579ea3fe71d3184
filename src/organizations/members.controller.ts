import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { z } from 'zod';
import type { EventMetadata } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { ChangeMemberRoleCommand } from './change-member-role.command';
import { ListMembersQuery, type MemberPage } from './list-members.query';
import { orgActor } from './org-actor';
import * as s from './organizations.schemas';
import { RemoveMemberCommand } from './remove-member.command';

const tags = ['members'];

/**
 * Members of the caller's organization. Admins manage members, viewers and other admins; only
 * owners grant the owner role or change/remove an owner; the last owner can never go.
 */
@Controller('api/members')
export class MembersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @ApiRoute({ summary: 'List the members of this organization, owners first; keyset pages', tags, query: s.listPage, responses: { 200: s.memberList } })
  list(@CurrentPrincipal() principal: Principal, @Query() query: z.infer<typeof s.listPage>): Promise<MemberPage> {
    return this.queries.execute(new ListMembersQuery(principal.organizationId, query.after, query.limit));
  }

  @Patch(':userId')
  @RequireRole('admin')
  @ApiRoute({ summary: "Change a member's role (409 last_owner when demoting the last owner)", tags, body: s.changeRoleBody, responses: { 200: s.changeRoleResponse } })
  changeRole(
    @CurrentPrincipal() principal: Principal,
    @Param('userId') userId: string,
    @Body() body: z.infer<typeof s.changeRoleBody>,
    @RequestMeta() metadata: EventMetadata,
  ): Promise<z.infer<typeof s.changeRoleResponse>> {
    return this.commands.execute(new ChangeMemberRoleCommand(principal.organizationId, orgActor(principal), userId, body.role, metadata));
  }

  @Delete(':userId')
  @HttpCode(204)
  // Any member may leave (their own id); removing someone else needs admin, checked by the rules.
  @RequireRole('viewer')
  @ApiRoute({ summary: 'Remove a member (admin+), or leave (your own id); the last owner cannot go', tags, responses: { 204: 'removed' } })
  async remove(@CurrentPrincipal() principal: Principal, @Param('userId') userId: string, @RequestMeta() metadata: EventMetadata): Promise<void> {
    await this.commands.execute(new RemoveMemberCommand(principal.organizationId, orgActor(principal), userId, metadata));
  }
}
