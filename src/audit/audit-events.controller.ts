import { Controller, Get, Inject, Logger, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { START } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { encodeCursor } from '../http/keyset';
import { CurrentPrincipal, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { HeldRequests } from '../http/held-requests';
import { wantsNdjson, streamAuditEvents } from './audit-events.ndjson';
import { auditFilterOf, positionOfCursor, readAuditEvents } from './audit-events.query';
import { auditEventPage, auditEventsQuery, type AuditEventsQuery } from './audit-events.schemas';
import { auditEventViewOf } from './audit-events.view';

const DESCRIPTION = [
  "The organization's events in commit order, each with its provenance: actor, request id, the `X-Thodare-Agent` label, causation and correlation ids.",
  'Security events are part of the trail: `UserSignedIn`, `UserSignInFailed`, `UserSignedOut`, `ActiveOrganizationSwitched` (on `user-<userId>-org-<organizationId>`), `ApiKeyCreated`, `ApiKeyRevoked`, `MemberRoleChanged` (on `org-<id>`).',
  'No event holds a password, token, key or secret value; approval tokens are shown as "[redacted]".',
  'With `Accept: application/x-ndjson` the answer is the whole range after `after` (filters apply, `limit` does not), one event per line, streamed; such a stream counts towards the organization\'s held requests (429 too_many_streams past THODARE_MAX_HELD_REQUESTS_PER_ORG).',
  'A filter other than `streamId` is checked event by event: a page then reads at most THODARE_AUDIT_SCAN_ROWS (500,000) of the organization\'s events after `after`, and may hold fewer events than `limit`, or none, with a `next` that resumes after what it read; follow `next` until it is null.',
  '400 invalid_query for a bad filter or a cursor this endpoint did not return.',
].join(' ');

/** `GET /api/audit/events`: the organization's events in commit order (admin+). */
@Controller('api/audit')
export class AuditEventsController {
  private readonly log = new Logger('audit');

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(HeldRequests) private readonly held: HeldRequests,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get('events')
  @RequireRole('admin')
  @ApiRoute({ summary: "The organization's events, in commit order, with their provenance", description: DESCRIPTION, tags: ['audit'], query: auditEventsQuery, responses: { 200: auditEventPage } })
  async events(@CurrentPrincipal() principal: Principal, @Query() query: AuditEventsQuery, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const filter = auditFilterOf(query);
    const after = query.after ? positionOfCursor(query.after) : START;
    const organizationId = principal.organizationId;
    if (wantsNdjson(request.headers.accept)) {
      const release = this.held.hold(organizationId, 'NDJSON export');
      return streamAuditEvents(this.pool, reply, { organizationId, filter, after, scanRows: this.config.auditScanRows }, this.log).finally(release);
    }
    const { events, next } = await readAuditEvents(this.pool, organizationId, filter, after, query.limit, this.config.auditScanRows);
    void reply.send({ data: events.map(auditEventViewOf), next: next ? encodeCursor([next.transactionId, next.globalPosition]) : null });
  }
}
