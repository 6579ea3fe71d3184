import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Pool } from 'pg';
import { z } from 'zod';
import { runStreamId } from '../domain/run/run.events';
import { STREAM_PAGE_BYTES } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { resolveRunDefinitions } from '../run-queue/run-definitions';
import { runHeadOf } from '../run-queue/run-state.queries';
import { RUN_TERMINAL_STATUSES } from '../domain/run/run.state';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { RunStreamWatch } from './run-stream-watch';
import { runEventView } from './run-events.query';
import { assertRunExists } from './run-exists';
import { drained } from '../http/drained';
import { HeldRequests } from '../http/held-requests';

const MAX_VERSION = 2 ** 31 - 1;
const streamQuery = z.object({ after: z.coerce.number().int().min(0).max(MAX_VERSION).optional() });
const ENDING = new Set(['RunCompleted', 'RunFailed', 'RunCancelled']);
const HEARTBEAT_MS = 15_000;

/**
 * `GET /api/runs/:id/stream`: Server-Sent Events of the run's events (`id` = stream version,
 * `event` = type, `data` = the event as `GET …/events` shows it) from `after` (or `Last-Event-ID`)
 * until the run ends; then the stream closes. A stream reads only when `RunStreamWatch` says its
 * run moved: an idle stream costs nothing. Asked from the end of a run that has ended (what an
 * EventSource does when the stream closes: it reconnects with the last id it saw), the answer is
 * 204, which stops its reconnecting; such a stream was held open for good before.
 */
@Controller('api/runs')
export class RunStreamController {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(RunStreamWatch) private readonly watch: RunStreamWatch,
    @Inject(HeldRequests) private readonly held: HeldRequests,
  ) {}

  @Get(':id/stream')
  @RequireRole('viewer')
  @ApiRoute({ summary: "Server-Sent Events of the run's events until it ends", tags: ['runs'], query: streamQuery, responses: { 200: 'text/event-stream', 204: 'the run has ended and nothing follows `after` / `Last-Event-ID` (an EventSource stops reconnecting)' } })
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Param('id') runId: string,
    @Query() query: z.infer<typeof streamQuery>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await assertRunExists(this.pool, principal.organizationId, runId);
    let after = streamVersionIn(request.headers['last-event-id']) ?? query.after ?? 0;
    // From the start (after 0) there is always something to send: a run's stream is never empty.
    if (after > 0 && (await this.endedBy(runId, after))) {
      void reply.status(204).send();
      return;
    }
    // Before the headers: over the organization's limit, an ordinary 429 answer.
    const release = this.held.hold(principal.organizationId, 'run stream');
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    raw.write(': connected\n\n');
    let closed = false;
    // `dirty`: woken since the last read began (a wake during a read is not lost).
    let dirty = true;
    let resume: (() => void) | undefined;
    const wake = () => {
      dirty = true;
      resume?.();
    };
    raw.on('close', () => {
      closed = true;
      release(); // the socket is gone, whatever the loop below is waiting for
      wake();
    });
    const unwatch = this.watch.watch(runId, { after: () => after, wake });
    // A heartbeat only into an empty buffer: a client that reads nothing is not owed more.
    const heartbeat = setInterval(() => raw.writableNeedDrain || raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
    try {
      while (!closed) {
        dirty = false;
        const read = await this.store.readStreamPage(runStreamId(runId), { fromVersion: after + 1, limit: 500, maxBytes: STREAM_PAGE_BYTES, organizationId: principal.organizationId });
        const events = await resolveRunDefinitions(this.pool, read.events);
        for (const event of events) {
          // Each event waits for the client to take the one before: a client that reads slowly,
          // or not at all, holds one event in this process's memory, not the whole run (a run's
          // stream can reach tens of megabytes).
          if (!raw.write(`id: ${event.streamVersion}\nevent: ${event.type}\ndata: ${JSON.stringify(runEventView(event))}\n\n`)) await drained(raw);
          after = event.streamVersion;
          if (ENDING.has(event.type)) closed = true;
          if (closed) break;
        }
        if (closed || read.more) continue;
        // Woken with nothing past `after`: a run that ended below it (a resume from past its end).
        if (events.length === 0 && (await this.endedBy(runId, after))) break;
        if (!dirty) await new Promise<void>((resolve) => (resume = resolve));
        resume = undefined;
      }
    } finally {
      clearInterval(heartbeat);
      unwatch();
      raw.end();
      release();
    }
  }

  /** Whether the run has ended with nothing after stream version `after`. */
  private async endedBy(runId: string, after: number): Promise<boolean> {
    const head = await runHeadOf(this.pool, runId);
    return head !== undefined && RUN_TERMINAL_STATUSES.includes(head.status) && head.streamVersion <= after;
  }
}

/** A `Last-Event-ID` that is one of our stream versions; anything else is ignored (the stream starts from `after`). */
function streamVersionIn(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,10}$/.test(value)) return undefined;
  const version = Number(value);
  return version <= MAX_VERSION ? version : undefined;
}
