import type { SigningMode } from './webhook-params';

/**
 * Facts of inbound webhooks. A webhook's own stream `webhook-<id>` holds its definition when the
 * API created it (a `trigger_webhook` block's webhook is defined by the workflow's events), its
 * secret rotations and its revocation. Each delivery is its own stream `webhookdelivery-<id>`,
 * so concurrent deliveries never contend on one stream version.
 */
export type WebhookEvent = WebhookCreated | WebhookSecretRotated | WebhookRevoked | WebhookReceived;

export interface WebhookCreated {
  type: 'WebhookCreated';
  data: { webhookId: string; workflowId: string; signing: SigningMode; idempotencyKeyPath: string | null };
}

/** A new signing secret generation; the previous one stays valid for `graceSeconds` so senders can switch. */
export interface WebhookSecretRotated {
  type: 'WebhookSecretRotated';
  data: { generation: number; graceSeconds: number };
}

export interface WebhookRevoked {
  type: 'WebhookRevoked';
  data: Record<string, never>;
}

/**
 * A delivery that started `runId`. `body` is the raw body as received (UTF-8 text, or base64 when
 * it is not valid UTF-8), `headers` without credentials or signatures. `dedupeKey` is what makes
 * a repeat a duplicate; `replayOf` names the delivery a replay re-sent.
 */
export interface WebhookReceived {
  type: 'WebhookReceived';
  data: {
    deliveryId: string;
    webhookId: string;
    runId: string;
    dedupeKey: string | null;
    method: string;
    headers: Record<string, string>;
    query: Record<string, string>;
    body: string;
    bodyEncoding: 'utf8' | 'base64';
    receivedAt: string;
    replayOf?: string;
  };
}

export const WEBHOOK_EVENT_TYPES: readonly WebhookEvent['type'][] = ['WebhookCreated', 'WebhookSecretRotated', 'WebhookRevoked', 'WebhookReceived'];
export const WEBHOOK_STREAM_PREFIX = 'webhook-';
export const DELIVERY_STREAM_PREFIX = 'webhookdelivery-';

export function webhookStream(webhookId: string): string {
  return `${WEBHOOK_STREAM_PREFIX}${webhookId}`;
}

export function deliveryStream(deliveryId: string): string {
  return `${DELIVERY_STREAM_PREFIX}${deliveryId}`;
}

/** The run-start idempotency key of a delivery: the same key never makes two runs, whatever races. */
export function deliveryKey(webhookId: string, dedupeKey: string): string {
  return `hook:${webhookId}:${dedupeKey}`;
}
