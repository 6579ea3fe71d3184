import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { liveWebhook, type WebhookRow } from './webhook-rows';

/** How long a kept row answers without a read: a rotation reaches other instances this fast. */
const LIVE_WEBHOOK_MAX_AGE_MS = 1000;
/** Rows kept at most (least recently used go first). */
const MAX_WEBHOOKS = 10_000;

/**
 * The webhook rows deliveries are checked against, kept up to `LIVE_WEBHOOK_MAX_AGE_MS`: a busy
 * webhook costs one read a second rather than one per delivery. A kept row only decides what the
 * request is checked with (signing mode, secrets, dedupe path) before anything is written: the
 * delivery's transaction itself locks the webhook rows and refuses a delivery whose webhook is
 * no longer live (`DeliveryRecorder`), so a revocation applies at once on every instance. A
 * signature that fails against a kept row is checked again against a fresh one, so a rotation
 * done on another instance never refuses the new secret; the previous secret may verify there
 * up to `LIVE_WEBHOOK_MAX_AGE_MS` past its grace period.
 */
@Injectable()
export class LiveWebhooks {
  private readonly kept = new Map<string, { row: WebhookRow; readAt: number }>();

  constructor(@Inject(Pool) private readonly pool: Pool) {}

  /** The live webhook `webhookId`, as kept or read now; undefined when unknown or revoked. */
  async get(webhookId: string): Promise<WebhookRow | undefined> {
    const entry = this.kept.get(webhookId);
    if (entry && performance.now() - entry.readAt < LIVE_WEBHOOK_MAX_AGE_MS) {
      // Most recently used last: eviction takes the first.
      this.kept.delete(webhookId);
      this.kept.set(webhookId, entry);
      return entry.row;
    }
    return this.read(webhookId);
  }

  /** The live webhook as the store holds it now (and kept from now on). */
  async read(webhookId: string): Promise<WebhookRow | undefined> {
    const row = await liveWebhook(this.pool, webhookId);
    this.kept.delete(webhookId);
    if (!row) return undefined;
    this.kept.set(webhookId, { row, readAt: performance.now() });
    if (this.kept.size > MAX_WEBHOOKS) this.kept.delete(this.kept.keys().next().value!);
    return row;
  }
}
