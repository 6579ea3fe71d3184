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
import { patchBody, patchQuery, patchResponseSchema } from './workflow.schemas';

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
    const author = { kind: principal.authMode === 'session' ? 'user' : 'api_key' } as const;
    const result = await this.commands.execute(new PatchWorkflowCommand(principal.organizationId, id, body.ops, author, options, meta));
    if (!query.dry_run) void reply.header('etag', versionTag(result.version));
    return result;
  }
}
