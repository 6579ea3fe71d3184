import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { Pool } from 'pg';
import type { z } from 'zod';
import { ApiRoute } from '../http/api-route.decorator';
import { decodeCursor, toPage } from '../http/keyset';
import { CurrentPrincipal, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { listAuditKeys, listCheckpoints } from './audit-rows';
import { checkpointsQuery, checkpointsResponse, exportQuery, keysResponse, verifyResponse } from './audit-seal.schemas';
import { AuditSigningKeyProvider } from './audit-signing-key';
import { exportBundle } from './audit-export';
import { verifyOrganization } from './audit-verify';

/** Proving the audit trail: verify the sealed chain, read checkpoints and keys, export a bundle. */
@Controller('api/audit')
export class AuditSealController {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(AuditSigningKeyProvider) private readonly keys: AuditSigningKeyProvider,
  ) {}

  @Get('verify')
  @RequireRole('admin')
  @ApiRoute({
    summary: "Recompute the organization's sealed hash chain from its stored events and check every signed checkpoint",
    tags: ['audit'],
    responses: { 200: verifyResponse },
  })
  async verify(@CurrentPrincipal() principal: Principal) {
    return verifyOrganization(this.pool, principal.organizationId, await this.keys.trustedKeys());
  }

  @Get('checkpoints')
  @RequireRole('admin')
  @ApiRoute({ summary: "The organization's signed checkpoints, oldest first", tags: ['audit'], query: checkpointsQuery, responses: { 200: checkpointsResponse } })
  async checkpoints(@CurrentPrincipal() principal: Principal, @Query() query: z.infer<typeof checkpointsQuery>) {
    const after = query.after ? Number(decodeCursor(query.after, ['number'])[0]) : 0;
    const rows = await listCheckpoints(this.pool, principal.organizationId, { after, limit: query.limit + 1 });
    const page = toPage(rows, query.limit, (c) => c, (c) => [c.number]);
    return { data: page.items, next: page.next };
  }

  @Get('keys')
  @RequireRole('admin')
  @ApiRoute({ summary: 'The public keys that verify checkpoints (every key ever used; a rotation adds one)', tags: ['audit'], responses: { 200: keysResponse } })
  async publicKeys() {
    const [listed, trusted, { publicKey }] = await Promise.all([listAuditKeys(this.pool), this.keys.trustedKeys(), this.keys.key()]);
    return { data: listed.map((key) => ({ ...key, current: key.keyId === publicKey.keyId, trusted: trusted.has(key.keyId) })), next: null };
  }

  @Get('export')
  @RequireRole('admin')
  @ApiRoute({
    summary: 'Stream an audit bundle (tar): the sealed events recorded in [from, to] with their hashes, checkpoints, public keys and a manifest',
    description: 'Verify it offline with `thodare audit verify <file> --public-key <base64>`.',
    tags: ['audit'],
    query: exportQuery,
    responses: { 200: 'application/x-tar' },
  })
  async export(@CurrentPrincipal() principal: Principal, @Query() query: z.infer<typeof exportQuery>, @Res() reply: FastifyReply): Promise<void> {
    const range = { ...(query.from ? { from: new Date(query.from) } : {}), ...(query.to ? { to: new Date(query.to) } : {}) };
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    await reply
      .header('content-type', 'application/x-tar')
      .header('content-disposition', `attachment; filename="audit-${principal.organizationId}-${stamp}.tar"`)
      .send(Readable.from(exportBundle(this.pool, principal.organizationId, range)));
  }
}
