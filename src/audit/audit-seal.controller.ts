import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { Pool } from 'pg';
import type { z } from 'zod';
import { ApiRoute } from '../http/api-route.decorator';
import { decodeCursor, toPage } from '../http/keyset';
import { CurrentPrincipal, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { HeldRequests } from '../http/held-requests';
import { ReadReplica } from '../database/read-replica';
import { listAuditKeys, listCheckpoints } from './audit-rows';
import { checkpointsQuery, checkpointsResponse, exportQuery, keysResponse, verifyResponse } from './audit-seal.schemas';
import { AuditSigningKeyProvider } from './audit-signing-key';
import { exportBundle } from './audit-export';
import { verifyOrganization } from './audit-verify';
import { AuditVerifications } from './audit-verifications';

/** Proving the audit trail: verify the sealed chain, read checkpoints and keys, export a bundle. */
@Controller('api/audit')
export class AuditSealController {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(AuditSigningKeyProvider) private readonly keys: AuditSigningKeyProvider,
    @Inject(AuditVerifications) private readonly verifications: AuditVerifications,
    @Inject(HeldRequests) private readonly held: HeldRequests,
    @Inject(ReadReplica) private readonly replica: ReadReplica,
  ) {}

  @Get('verify')
  @RequireRole('admin')
  @ApiRoute({
    summary: "Recompute the organization's sealed hash chain from its stored events and check every signed checkpoint",
    description: 'CPU-bound on the serving instance (about 20 µs per event): one verification per organization runs at a time on an instance, and at most THODARE_MAX_AUDIT_VERIFICATIONS for all organizations. A client that leaves stops its verification.',
    tags: ['audit'],
    responses: { 200: verifyResponse },
    errors: { 429: 'rate_limited, or audit_busy: a verification of this organization is running on this instance, or the instance runs THODARE_MAX_AUDIT_VERIFICATIONS (both with `retryAfterMs` and Retry-After)' },
  })
  async verify(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply) {
    const keys = await this.keys.trustedKeys();
    const end = this.verifications.begin(principal.organizationId);
    // A client that leaves stops the verification (and frees its place) at the next slice.
    const left = new AbortController();
    const leave = () => left.abort();
    reply.raw.once('close', leave);
    try {
      return await verifyOrganization(this.pool, principal.organizationId, keys, left.signal);
    } catch (error) {
      if (left.signal.aborted) return undefined; // nobody to answer
      throw error;
    } finally {
      reply.raw.off('close', leave);
      end();
    }
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
    description:
      'Verify it offline with `thodare audit verify <file> --public-key <base64>`. It runs on to the checkpoint that signs the range\'s last event; events no checkpoint signs yet (the newest, for up to THODARE_AUDIT_CHECKPOINT_INTERVAL_MS) are left out until one does. The stream counts towards the organization\'s held requests (429 too_many_streams past THODARE_MAX_HELD_REQUESTS_PER_ORG). With THODARE_READ_REPLICA_URL set it is read from the replica, up to what the replica has replayed (`x-thodare-read-from: replica`); 503 read_replica_unavailable while the replica does not answer.',
    tags: ['audit'],
    query: exportQuery,
    responses: { 200: 'application/x-tar' },
  })
  async export(@CurrentPrincipal() principal: Principal, @Query() query: z.infer<typeof exportQuery>, @Res() reply: FastifyReply): Promise<void> {
    const range = { ...(query.from ? { from: new Date(query.from) } : {}), ...(query.to ? { to: new Date(query.to) } : {}) };
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const { db, source } = await this.replica.pool();
    reply.raw.once('close', this.held.hold(principal.organizationId, 'audit export'));
    await reply
      .header('content-type', 'application/x-tar')
      .header('content-disposition', `attachment; filename="audit-${principal.organizationId}-${stamp}.tar"`)
      .header('x-thodare-read-from', source)
      .send(Readable.from(exportBundle(db, principal.organizationId, range)));
  }
}
