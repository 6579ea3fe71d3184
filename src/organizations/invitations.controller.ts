import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { z } from 'zod';
import { WithoutOrganization } from '../auth/without-organization.decorator';
import { AppError } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { AcceptInvitationCommand } from './accept-invitation.command';
import { CreateInvitationCommand, type CreatedInvitation } from './create-invitation.command';
import { ListInvitationsQuery, type InvitationPage } from './list-invitations.query';
import { orgActor } from './org-actor';
import * as s from './organizations.schemas';

const tags = ['invitations'];

@Controller('api/invitations')
export class InvitationsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @RequireRole('admin')
  @ApiRoute({ summary: 'Invite an email with a role (at most yours); the single-use token is in this response only', tags, body: s.inviteBody, responses: { 201: s.invitationCreated } })
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: z.infer<typeof s.inviteBody>,
    @RequestMeta() metadata: EventMetadata,
  ): Promise<CreatedInvitation> {
    return this.commands.execute(
      new CreateInvitationCommand(
        principal.organizationId,
        orgActor(principal),
        body.email,
        body.role,
        body.expiresAt ? new Date(body.expiresAt) : undefined,
        metadata,
      ),
    );
  }

  @Get()
  @RequireRole('admin')
  @ApiRoute({ summary: "This organization's invitations (without tokens), newest first; keyset pages", tags, query: s.listPage, responses: { 200: s.invitationList } })
  list(@CurrentPrincipal() principal: Principal, @Query() query: z.infer<typeof s.listPage>): Promise<InvitationPage> {
    return this.queries.execute(new ListInvitationsQuery(principal.organizationId, query.after, query.limit));
  }

  @Post(':token/accept')
  @HttpCode(200)
  @RequireRole('viewer')
  @WithoutOrganization()
  @ApiRoute({ summary: 'Accept an invitation with a session of the invited email (404 for any other email or an API key; 409 invitation_used)', tags, responses: { 200: s.invitationAccepted } })
  accept(@CurrentPrincipal() principal: Principal, @Param('token') token: string, @RequestMeta() metadata: EventMetadata): Promise<z.infer<typeof s.invitationAccepted>> {
    // A key has no email, so no invitation is its to see: 404 like any other token that is not yours.
    if (principal.authMode !== 'session' || !principal.userId) {
      throw new AppError('not_found', 'invitation not found (invitations are accepted with a session of the invited email, not an API key)');
    }
    return this.commands.execute(new AcceptInvitationCommand(token, principal.userId, metadata));
  }
}
