import { z } from 'zod';

/** Event type names as the store holds them (`RunStarted`, `ApiKeyCreated`, …). */
const typeName = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/, 'an event type name');

/** `type=A,B` and `type=A&type=B` both mean "A or B". */
const typeList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((part) => part.split(',')).map((part) => part.trim()).filter(Boolean))
  .pipe(z.array(typeName).min(1).max(50));

const instant = z.iso.datetime({ offset: true });

export const MAX_AUDIT_PAGE = 500;

export const auditEventsQuery = z
  .object({
    after: z.string().min(1).max(500).optional().describe('the `next` of the previous page, or an event\'s `cursor`: events committed after it'),
    limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(100).describe('page size (ignored by the NDJSON stream, which sends the whole range)'),
    type: typeList.optional().describe('event types, comma-separated (any of them)'),
    streamId: z.string().min(1).max(300).optional(),
    actor: z.string().min(1).max(300).optional().describe('`<type>:<id>` (e.g. `user:…`, `api_key:…`, `webhook:…`) or just an id'),
    agent: z.string().min(1).max(200).optional().describe('the exact `X-Thodare-Agent` label'),
    from: instant.optional().describe('recorded at or after this instant'),
    to: instant.optional().describe('recorded before this instant'),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { path: ['to'], message: 'must not be before `from`' });

export type AuditEventsQuery = z.infer<typeof auditEventsQuery>;

const actorType = z.enum(['user', 'api_key', 'schedule', 'webhook', 'event', 'system']);

export const auditEventView = z.object({
  position: z.number().int().describe('global position (total order of appends)'),
  transactionId: z.string().describe('the writing transaction (xid8): commit order is (transactionId, position)'),
  cursor: z.string().describe('pass as `after` to resume after this event'),
  streamId: z.string(),
  streamVersion: z.number().int(),
  type: z.string(),
  data: z.unknown().describe('the event as stored, with approval tokens shown as "[redacted]"'),
  recordedAt: z.string(),
  actor: z.object({ type: actorType, id: z.string() }),
  agent: z.string().nullable().describe('the `X-Thodare-Agent` label the caller sent'),
  requestId: z.string().nullable(),
  causationId: z.string().nullable(),
  correlationId: z.string().nullable(),
}).meta({ id: 'AuditEvent', description: 'An event of the organization with its provenance.' });

export type AuditEventView = z.infer<typeof auditEventView>;

export const auditEventPage = z.object({
  data: z.array(auditEventView),
  next: z.string().nullable().describe('pass as `after` for the next page; null when nothing more is committed yet'),
});
