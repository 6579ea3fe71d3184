import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { z } from 'zod';
import { ApiKeyStrategy } from '../auth/api-key.strategy';
import { hasCsrfProof } from '../auth/csrf';
import { SessionStrategy } from '../auth/session.strategy';
import { ApiRoute, Public } from '../http/api-route.decorator';
import { requestMetadata, type AuthenticatedRequest, type Principal } from '../http/principal';
import { DecideApprovalCommand } from './decide-approval.command';
import { GetApprovalQuery } from './get-approval.query';
import { approvalResponse, decideBody, decideResponse } from './runs.schemas';

/**
 * Approval links: public, the single-use unguessable token is the credential. A decision made
 * with credentials (session or API key; the session cookie only with `X-Thodare-CSRF`) records
 * who decided; an anonymous one records `null`.
 */
@Public()
@Controller('api/approvals')
export class ApprovalsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(ModuleRef) private readonly modules: ModuleRef,
  ) {}

  @Get(':token')
  @ApiRoute({ summary: 'What an approval asks, and its status (public)', tags: ['runs'], responses: { 200: approvalResponse } })
  get(@Param('token') token: string) {
    return this.queries.execute(new GetApprovalQuery(token));
  }

  @Post(':token')
  @HttpCode(200)
  @ApiRoute({ summary: 'Approve or reject (public; once: a second decision is 409 approval_decided)', tags: ['runs'], body: decideBody, responses: { 200: decideResponse }, errors: { 409: 'approval_decided: the approval was already decided' } })
  async decide(@Req() request: AuthenticatedRequest, @Param('token') token: string, @Body() body: z.infer<typeof decideBody>) {
    const principal = await this.optionalPrincipal(request);
    const meta = requestMetadata(request);
    const by = principal ? (principal.userId ?? `${principal.actor.type}:${principal.actor.id}`) : undefined;
    return this.commands.execute(
      new DecideApprovalCommand(
        token,
        { approved: body.approved, ...(body.note !== undefined ? { note: body.note } : {}), ...(by ? { by } : {}) },
        principal ? { ...meta, actor: principal.actor } : meta,
      ),
    );
  }

  /** Who is deciding, when the request carries valid credentials (never required). */
  private async optionalPrincipal(request: AuthenticatedRequest): Promise<Principal | undefined> {
    // The token alone decides, so no CSRF proof is required here; but a session cookie names the
    // approver only with it: a page of another site must not sign a decision with a visitor's name.
    if (!hasCsrfProof(request)) return undefined;
    for (const type of [ApiKeyStrategy, SessionStrategy]) {
      try {
        const strategy = this.modules.get<{ validate(r: AuthenticatedRequest): Promise<Principal | null> }>(type, { strict: false });
        const principal = await strategy.validate(request);
        if (principal) return principal;
      } catch {
        // no strategy in this process, or a bad credential: decide anonymously
      }
    }
    return undefined;
  }
}
