import type { LoggerService } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Pool } from 'pg';
import type { Checkpoint } from '../event-store/event';
import { currentHorizon, readAuditEvents, type AuditFilter } from './audit-events.query';
import { auditEventViewOf } from './audit-events.view';
import { drained } from '../http/drained';

/**
 * Events per read. Memory is bounded by one batch, whatever the range: the stream never holds
 * more than this many events (each at most the body limit) and waits for the socket to drain.
 */
const BATCH = 200;

/** Whether the client asked for the NDJSON stream (`Accept: application/x-ndjson`). */
export function wantsNdjson(accept: string | string[] | undefined): boolean {
  const value = Array.isArray(accept) ? accept.join(',') : (accept ?? '');
  return /\bapplication\/(x-)?ndjson\b/i.test(value);
}

/**
 * Streams every event of the range, one JSON object per line, in keyset batches — never a
 * server-side cursor, whose open transaction would hold back the xmin horizon every catch-up
 * reader waits on. The horizon is pinned when the stream starts, so it ends even while the
 * organization keeps writing. A client that goes away stops the reads; a failure mid-stream
 * aborts the connection instead of ending it, so a truncated stream never looks complete.
 */
export async function streamAuditEvents(
  pool: Pool,
  reply: FastifyReply,
  range: { organizationId: string; filter: AuditFilter; after: Checkpoint; scanRows: number },
  log: LoggerService,
): Promise<void> {
  // Before the headers: a database failure here is still an ordinary error answer.
  const horizon = await currentHorizon(pool);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  let closed = false;
  raw.on('close', () => (closed = true));
  let position: Checkpoint | null = range.after;
  try {
    // A page of a filtered read may hold nothing yet move on (a scan window without a match).
    while (!closed && position) {
      const page = await readAuditEvents(pool, range.organizationId, range.filter, position, BATCH, range.scanRows, horizon);
      if (page.events.length > 0) {
        const lines = page.events.map((event) => `${JSON.stringify(auditEventViewOf(event))}\n`).join('');
        if (!raw.write(lines)) await drained(raw);
      }
      position = page.next;
    }
    raw.end();
  } catch (error) {
    log.warn({ err: error }, 'audit event stream aborted');
    raw.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}
