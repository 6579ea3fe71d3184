import { z } from 'zod';
import { cappedPage } from './capped-page';
import { fromAnswer } from './tool-result';
import { ADD, cursorInput, objectOutput, pageOutput, READ, write, type Toolset } from './toolset';

/** The `events` toolset: publish an organization event that resumes waiting runs. */
export function registerEventTools({ server, caller }: Toolset): void {
  server.registerTool(
    'event_publish',
    {
      title: 'Publish an event',
      description:
        "Publish an event: it starts a run of every workflow whose trigger_event block names it (startedRuns; refusedStarts says which could not start and why), and reaches this organization's runs waiting (now, or later within 24 h) on its name and correlation key (matchedRuns).",
      inputSchema: {
        name: z.string().min(1).max(200),
        correlation_key: z.string().min(1).max(500).optional(),
        payload: z.unknown().optional(),
        idempotency_key: z.string().min(1).max(200).optional(),
      },
      outputSchema: objectOutput({
        eventId: z.string(),
        matchedRuns: z.number(),
        startedRuns: z.array(z.object({ workflowId: z.string(), runId: z.string() })),
        refusedStarts: z.array(z.object({ workflowId: z.string(), error: z.string(), message: z.string() })),
      }),
      annotations: ADD,
    },
    write(caller, async ({ name, correlation_key, payload, idempotency_key }) => {
      const body = { name, ...(correlation_key !== undefined ? { correlationKey: correlation_key } : {}), ...(payload !== undefined ? { payload } : {}), ...(idempotency_key ? { idempotencyKey: idempotency_key } : {}) };
      return fromAnswer(await caller.call('POST', '/api/events', { body }));
    }),
  );
}

/** The `audit` toolset: the organization's events with their provenance (admin and owner). */
export function registerAuditTools({ server, caller }: Toolset): void {
  server.registerTool(
    'audit_events',
    {
      title: 'Read the audit trail',
      description: "The organization's events in commit order, each with actor, agent label, request and correlation ids (needs the admin role).",
      inputSchema: {
        ...cursorInput,
        limit: z.number().int().min(1).max(500).default(100),
        type: z.string().max(2000).optional().describe('event types, comma-separated'),
        stream_id: z.string().min(1).max(300).optional(),
        actor: z.string().min(1).max(300).optional().describe('`<type>:<id>` or an id'),
        agent: z.string().min(1).max(200).optional().describe('the exact agent label'),
        from: z.string().optional().describe('ISO instant, inclusive'),
        to: z.string().optional().describe('ISO instant, exclusive'),
      },
      outputSchema: pageOutput,
      annotations: READ,
    },
    ({ limit, stream_id, ...filters }) => cappedPage((size) => caller.call('GET', '/api/audit/events', { query: { ...filters, streamId: stream_id, limit: size } }), limit),
  );
}
