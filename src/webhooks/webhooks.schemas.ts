import { z } from 'zod';
import { SIGNING_MODES } from '../domain/webhook/webhook-params';
import { webhookFields } from '../domain/webhook/webhook-params';

/** Request and response schemas of the webhook routes (API.md "Schedules and webhooks"). */

export const createWebhookBody = z.strictObject({
  signed: z.boolean().optional().describe('true means signing "standard"'),
  signing: webhookFields.signing,
  idempotencyKeyPath: webhookFields.idempotencyKeyPath,
});

const webhook = z.object({
  id: z.string(),
  url: z.string(),
  token: z.string(),
  source: z.enum(['workflow', 'api']),
  workflowId: z.string(),
  blockId: z.string().nullable(),
  signing: z.enum(SIGNING_MODES),
  idempotencyKeyPath: z.string().nullable(),
  secretIssued: z.boolean(),
  createdAt: z.string(),
  signingSecret: z.string().optional(),
}).meta({ id: 'Webhook', description: "An inbound webhook: its URL's token is the credential." });
export const webhookResponse = webhook;
export const webhookListResponse = z.object({ data: z.array(webhook), next: z.null().describe('always null: a workflow has few webhooks, all in one page') });
export const rotateResponse = z.object({ id: z.string(), signingSecret: z.string() });
export const deliveriesQuery = z.object({ after: z.string().min(1).max(100).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) });
const delivery = z.object({
  deliveryId: z.string(),
  runId: z.string(),
  dedupeKey: z.string().nullable(),
  method: z.string(),
  headers: z.record(z.string(), z.string()),
  query: z.record(z.string(), z.string()),
  body: z.string().describe('the raw body as received: UTF-8 text, or base64 (bodyEncoding)'),
  bodyEncoding: z.enum(['utf8', 'base64']),
  receivedAt: z.string(),
  replayOf: z.string().optional(),
  recordedAt: z.string(),
}).meta({ id: 'WebhookDelivery', description: 'One request received at a webhook, as recorded.' });
export const deliveriesResponse = z.object({ data: z.array(delivery), next: z.string().nullable() });
export const deliveryAnswer = z.object({ runId: z.string(), deliveryId: z.string().optional(), duplicate: z.literal(true).optional() });
