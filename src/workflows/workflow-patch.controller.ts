import { Body, Controller, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { EventMetadata } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { parseIfMatch, versionTag } from './if-match';
import { readIdempotencyKey } from '../idempotency/idempotency-key-header';
import type { PatchResponse } from './patch-response';
import { PatchWorkflowCommand } from './patch-workflow.command';
import { RevertWorkflowCommand, type RevertResponse } from './revert-workflow.command';
import { patchBody, patchQuery, patchResponseSchema, revertBody, revertResponseSchema } from './workflow.schemas';

/** The EditOp patch loop: the route agents call most. */
@Controller('api/workflows')
export class WorkflowPatchController {
  constructor(@Inject(CommandBus) private readonly commands: CommandBus) {}

  @Post(':id/operations')
  @HttpCode(200)
  @RequireRole('member')
  @ApiRoute({
    summary: 'Apply an EditOp batch (at most 200 ops); bad ops are skipped with structured reasons',
    description:
      'Headers: If-Match ("3", 3 or W/"3"; 412 version_mismatch with `current`), Idempotency-Key (same key and body replay the stored response; another body is 409 idempotency_conflict). `?dry_run=true` stores nothing. A person (session) may set user-only params; an API key may not.',
    tags: ['workflows'],
    body: patchBody,
    query: patchQuery,
    responses: { 200: patchResponseSchema },
    headers: ['If-Match', 'Idempotency-Key'],
    errors: {
      409: 'idempotency_conflict: the Idempotency-Key was used with another body',
      412: 'version_mismatch: If-Match names another version; `current` is the version now',
    },
  })
  async patch(
    @CurrentPrincipal() principal: Principal,
    @RequestMeta() meta: EventMetadata,
    @Param('id') id: string,
    @Body() body: z.infer<typeof patchBody>,
    @Query() query: z.infer<typeof patchQuery>,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PatchResponse> {
    const options = { ifMatch: parseIfMatch(ifMatch), idempotencyKey: readIdempotencyKey(idempotencyKey), dryRun: query.dry_run };
    const author = authorOf(principal);
    const result = await this.commands.execute(new PatchWorkflowCommand(principal.organizationId, id, body.ops, author, options, meta));
    if (!query.dry_run) void reply.header('etag', versionTag(result.version));
    return result;
  }

  @Post(':id/revert')
  @HttpCode(200)
  @RequireRole('member')
  @ApiRoute({
    summary: 'Take the workflow back to a past version: the EditOps from here to there, applied as one patch',
    description:
      'A new version with the past version\'s content, recorded op by op (each op in `applied`, a refused one in `skipped_items`, as for any patch). If-Match: the version the caller saw (412 version_mismatch otherwise). `?dry_run=true` stores nothing. The ops are one patch however many there are (the 200-op bound of an agent\'s batch does not apply): the revert lands whole or not at all.',
    tags: ['workflows'],
    body: revertBody,
    query: patchQuery,
    responses: { 200: revertResponseSchema },
    headers: ['If-Match'],
    errors: {
      404: 'not_found: no such workflow, or no such version of it',
      412: 'version_mismatch: If-Match names another version; `current` is the version now',
    },
  })
  async revert(
    @CurrentPrincipal() principal: Principal,
    @RequestMeta() meta: EventMetadata,
    @Param('id') id: string,
    @Body() body: z.infer<typeof revertBody>,
    @Query() query: z.infer<typeof patchQuery>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RevertResponse> {
    const author = authorOf(principal);
    const options = { ...(ifMatch !== undefined ? { ifMatch: parseIfMatch(ifMatch) } : {}), dryRun: query.dry_run };
    const result = await this.commands.execute(new RevertWorkflowCommand(principal.organizationId, id, body.version, author, options, meta));
    if (!query.dry_run) void reply.header('etag', versionTag(result.version));
    return result;
  }
}

/** Who applies ops: a signed-in person may set user-only params, an API key may not. */
function authorOf(principal: Principal) {
  return { kind: principal.authMode === 'session' ? 'user' : 'api_key' } as const;
}
