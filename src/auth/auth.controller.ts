import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Pool } from 'pg';
import type { z } from 'zod';
import { AppError } from '../errors';
import { EventStore } from '../event-store/event-store';
import { ApiRoute, Public } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import type { EventMetadata } from '../event-store/event';
import { RequireRole } from '../http/require-role.decorator';
import * as s from './auth.schemas';
import { clearSessionCookie, setSessionCookie } from './session-cookie';
import { clientInfo } from './identity-journal';
import { signOut, switchOrganization, type SessionRef } from './session-changes';
import { OpensSession } from './opens-session.decorator';
import { SignInCommand } from './sign-in.command';
import { SignUpCommand } from './sign-up.command';
import { findUser } from './users';
import { WithoutOrganization } from './without-organization.decorator';

const tags = ['auth'];

function sessionOnly(principal: Principal, what: string): SessionRef {
  if (principal.authMode !== 'session' || !principal.sessionId || !principal.userId) throw new AppError('forbidden', `${what} needs a session, not an API key`);
  return { userId: principal.userId, sessionId: principal.sessionId };
}

@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  @Public()
  @OpensSession()
  @Post('sign-up')
  @ApiRoute({ summary: 'Create an account, its personal organization (you own it) and a session', tags, body: s.signUpBody, responses: { 201: s.signUpResponse } })
  async signUp(
    @Body() body: z.infer<typeof s.signUpBody>,
    @RequestMeta() metadata: EventMetadata,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<z.infer<typeof s.signUpResponse>> {
    const { user, organization, session } = await this.commands.execute(new SignUpCommand(body.email, body.password, body.name ?? null, metadata, clientInfo(request)));
    setSessionCookie(request, reply, session.token, session.expiresAt);
    return { user, organization, token: session.token, expiresAt: session.expiresAt.toISOString() };
  }

  @Public()
  @OpensSession()
  @Post('sign-in')
  @HttpCode(200)
  @ApiRoute({ summary: 'Exchange email and password for a session token (also set as an HttpOnly cookie)', tags, body: s.signInBody, responses: { 200: s.signInResponse } })
  async signIn(
    @Body() body: z.infer<typeof s.signInBody>,
    @RequestMeta() metadata: EventMetadata,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<z.infer<typeof s.signInResponse>> {
    const result = await this.commands.execute(new SignInCommand(body.email, body.password, metadata, clientInfo(request)));
    setSessionCookie(request, reply, result.session.token, result.session.expiresAt);
    const organizations = result.organizations.map((o) => ({ ...o, role: o.role as 'owner' }));
    return { user: result.user, token: result.session.token, expiresAt: result.session.expiresAt.toISOString(), organizations, activeOrganizationId: result.activeOrganizationId };
  }

  @Post('sign-out')
  @HttpCode(204)
  @RequireRole('viewer')
  @WithoutOrganization()
  @ApiRoute({ summary: 'Revoke this session at once', tags, responses: { 204: 'signed out' } })
  async signOut(@CurrentPrincipal() principal: Principal, @RequestMeta() metadata: EventMetadata, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await signOut(this.pool, this.store, sessionOnly(principal, 'signing out'), metadata);
    clearSessionCookie(reply);
  }

  @Get('session')
  @WithoutOrganization()
  @ApiRoute({ summary: 'Who is calling: user (null for an API key), organization, role, auth mode', tags, responses: { 200: s.sessionResponse } })
  async session(@CurrentPrincipal() principal: Principal): Promise<z.infer<typeof s.sessionResponse>> {
    const user = principal.userId ? ((await findUser(this.pool, principal.userId)) ?? null) : null;
    return {
      user,
      organizationId: principal.organizationId,
      role: principal.role,
      authMode: principal.authMode,
      ...(principal.apiKeyId ? { apiKeyId: principal.apiKeyId } : {}),
    };
  }

  @Post('active-organization')
  @HttpCode(200)
  @RequireRole('viewer')
  @WithoutOrganization()
  @ApiRoute({ summary: 'Switch the organization this session acts in (404 when you are not a member)', tags, body: s.activeOrganizationBody, responses: { 200: s.activeOrganizationResponse } })
  async activeOrganization(
    @CurrentPrincipal() principal: Principal,
    @Body() body: z.infer<typeof s.activeOrganizationBody>,
    @RequestMeta() metadata: EventMetadata,
  ): Promise<z.infer<typeof s.activeOrganizationResponse>> {
    const session = { ...sessionOnly(principal, 'switching organization'), organizationId: principal.organizationId };
    const role = await switchOrganization(this.pool, this.store, session, body.organizationId, metadata);
    return { organizationId: body.organizationId, role };
  }
}
