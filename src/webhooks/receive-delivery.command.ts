import { hash } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { getPath } from '../domain/resolver/path-access';
import { AppError, NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { SecretKeyProvider } from '../secrets/secret-key';
import { DeliveryRecorder, type DeliveryAnswer } from './delivery-recorder';
import { SIGNATURE_HEADERS, verifySignature } from './signatures';
import { signingSecret, webhookIdOfToken } from './webhook-credentials';
import { LiveWebhooks } from './live-webhooks';
import { deliveredRun, type WebhookRow } from './webhook-rows';

export type { DeliveryAnswer };

/** An inbound request to `/hooks/<token>`, as received. */
export interface InboundDelivery {
  token: string;
  method: string;
  rawBody: Buffer;
  /** The parsed JSON body (null when there is none). */
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string>;
  requestId: string;
  /** The request's agent label and correlation ids, recorded with the delivery (the actor is the webhook). */
  provenance?: Omit<EventMetadata, 'actor'>;
  now: Date;
}

/** Headers never stored with a delivery nor shown to the run: credentials and signatures. */
const DROPPED_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', ...SIGNATURE_HEADERS]);

/**
 * `POST /hooks/<token>`: the token is the credential. Verifies the signature over the raw bytes,
 * then starts a run whose trigger output is `{body, headers, query, method, receivedAt}` and
 * records `WebhookReceived` in the same transaction. Deduplicated per webhook by the standard
 * `webhook-id`, else `Idempotency-Key`, else the body's value at `idempotencyKeyPath`: the unique
 * (webhook, key) row of the delivery is the claim, so of concurrent twins one commits and the
 * others roll back and answer its run (`duplicate: true`).
 */
export class ReceiveDeliveryCommand extends Command<DeliveryAnswer> {
  constructor(readonly delivery: InboundDelivery) {
    super();
  }
}

@CommandHandler(ReceiveDeliveryCommand)
export class ReceiveDeliveryHandler implements ICommandHandler<ReceiveDeliveryCommand, DeliveryAnswer> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(DeliveryRecorder) private readonly recorder: DeliveryRecorder,
    @Inject(SecretKeyProvider) private readonly keys: SecretKeyProvider,
    @Inject(LiveWebhooks) private readonly webhooks: LiveWebhooks,
  ) {}

  async execute({ delivery }: ReceiveDeliveryCommand): Promise<DeliveryAnswer> {
    const { key } = await this.keys.key();
    const webhookId = webhookIdOfToken(key, delivery.token);
    const kept = webhookId ? await this.webhooks.get(webhookId) : undefined;
    if (!kept) throw new NotFound('webhook');
    // An unsigned webhook's secrets are never read: deriving them is an HMAC per delivery for nothing.
    const secrets = (row: WebhookRow) => (row.signing === 'none' ? [] : secretsOf(key, row, delivery.now));
    const verify = (row: WebhookRow) => verifySignature(row.signing, { rawBody: delivery.rawBody, headers: delivery.headers, secrets: secrets(row), now: delivery.now });
    let webhook = kept;
    let check = verify(webhook);
    if (!check.ok) {
      // The kept row may predate a rotation: decide on the stored one.
      const fresh = await this.webhooks.read(webhook.webhook_id);
      if (!fresh) throw new NotFound('webhook');
      webhook = fresh;
      check = verify(webhook);
    }
    if (!check.ok) throw new AppError('invalid_signature', `the delivery's signature does not verify: ${check.reason}`);
    const dedupeKey = dedupeKeyOf(webhook, delivery, check.deliveryId);
    if (dedupeKey !== null) {
      const earlier = await deliveredRun(this.pool, webhook.webhook_id, dedupeKey);
      if (earlier) return { runId: earlier, duplicate: true };
    }
    const headers = keptHeaders(delivery.headers);
    const receivedAt = delivery.now.toISOString();
    const trigger = { body: delivery.body, headers, query: delivery.query, method: delivery.method, receivedAt };
    const utf8 = delivery.rawBody.toString('utf8');
    const exact = Buffer.from(utf8, 'utf8').equals(delivery.rawBody);
    return this.recorder.record(webhook, trigger, {
      dedupeKey,
      method: delivery.method,
      headers,
      query: delivery.query,
      body: exact ? utf8 : delivery.rawBody.toString('base64'),
      bodyEncoding: exact ? 'utf8' : 'base64',
      receivedAt,
    }, { ...delivery.provenance, actor: { type: 'webhook', id: webhook.webhook_id }, requestId: delivery.requestId });
  }
}

/** The current secret, and the previous one during its grace period after a rotation. None before one is issued. */
export function secretsOf(key: Buffer, webhook: WebhookRow, now: Date): string[] {
  if (webhook.secret_generation === 0) return [];
  const current = signingSecret(key, webhook.webhook_id, webhook.secret_generation);
  const previousValid = webhook.secret_generation > 1 && webhook.previous_secret_until !== null && webhook.previous_secret_until > now;
  return previousValid ? [current, signingSecret(key, webhook.webhook_id, webhook.secret_generation - 1)] : [current];
}

function dedupeKeyOf(webhook: WebhookRow, delivery: InboundDelivery, signedId: string | undefined): string | null {
  if (signedId) return storedKey('webhook-id', signedId);
  const header = delivery.headers['idempotency-key'];
  const headerKey = Array.isArray(header) ? header[0] : header;
  if (headerKey) return storedKey('key', headerKey);
  if (!webhook.idempotency_key_path) return null;
  const value = getPath(delivery.body, webhook.idempotency_key_path.split('.'));
  return typeof value === 'string' || typeof value === 'number' ? storedKey('path', String(value)) : null;
}

/** Keys longer than this are stored as their SHA-256: a unique index row has a size limit. */
const MAX_STORED_KEY = 200;

/**
 * The dedupe key as stored: the key itself, or its SHA-256 when long. Cut to its first 200
 * characters instead, two keys differing only past them were one key, and the second delivery
 * was answered as a duplicate and dropped; a signed `webhook-id` was not cut at all, and one past
 * the index's row limit failed its delivery.
 */
function storedKey(kind: string, key: string): string {
  return key.length <= MAX_STORED_KEY ? `${kind}:${key}` : `${kind}:sha256:${hash('sha256', key, 'hex')}`;
}

function keptHeaders(headers: InboundDelivery['headers']): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED_HEADERS.has(name)) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}
