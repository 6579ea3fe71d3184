import { z } from 'zod';
import type { SerializedWorkflow } from '../workflow/workflow';

export type SigningMode = 'none' | 'standard' | 'github' | 'stripe';
export const SIGNING_MODES: readonly SigningMode[] = ['none', 'standard', 'github', 'stripe'];

/** The fields of an inbound webhook, as the `trigger_webhook` block's params and the webhook route share them. */
export const webhookFields = {
  signing: z
    .enum(SIGNING_MODES)
    .optional()
    .describe('How deliveries are signed: none (default; the URL token is the credential), standard (Standard Webhooks), github (X-Hub-Signature-256), stripe (Stripe-Signature)'),
  idempotencyKeyPath: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/)
    .max(200)
    .optional()
    .describe('Dotted path in the JSON body whose value deduplicates deliveries (used when neither webhook-id nor Idempotency-Key is sent), e.g. "event.id"'),
};

/** A webhook's settings from params already validated by `webhookFields`. */
export interface WebhookSettings {
  signing: SigningMode;
  idempotencyKeyPath: string | null;
}

/** Built once: zod compiles an object schema on its first parse (~0.5 ms), once per schema object. */
const webhookSettingsSchema = z.object(webhookFields);

export function webhookSettings(params: unknown): WebhookSettings | undefined {
  const parsed = webhookSettingsSchema.safeParse(params);
  if (!parsed.success) return undefined;
  return { signing: parsed.data.signing ?? 'none', idempotencyKeyPath: parsed.data.idempotencyKeyPath ?? null };
}

export const WEBHOOK_TRIGGER_TYPE = 'trigger_webhook';

/** The webhook a workflow's enabled `trigger_webhook` block defines (settings undefined while its params are invalid). */
export function webhookTriggerOf(workflow: SerializedWorkflow): { blockId: string; settings: WebhookSettings | undefined } | undefined {
  const block = workflow.blocks.find((b) => b.enabled && b.type === WEBHOOK_TRIGGER_TYPE);
  return block && { blockId: block.id, settings: webhookSettings(block.params) };
}
