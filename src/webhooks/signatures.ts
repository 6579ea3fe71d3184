import { createHmac, timingSafeEqual } from 'node:crypto';

import type { SigningMode } from '../domain/webhook/webhook-params';

export interface SignedDelivery {
  /** The exact bytes received: signatures cover bytes, so the body is never re-serialised. */
  rawBody: Buffer;
  /** Lower-case names, as Node/Fastify give them. */
  headers: Record<string, string | string[] | undefined>;
  /** Currently valid secrets (rotation: new first, then previous). */
  secrets: readonly string[];
  now: Date;
}

export type SignatureCheck = { ok: true; deliveryId?: string } | { ok: false; reason: string };

/**
 * Header names that carry signatures for any mode (dropped before headers are stored).
 * `x-hub-signature` is GitHub's legacy SHA-1 signature, sent beside the SHA-256 one.
 */
export const SIGNATURE_HEADERS: readonly string[] = [
  'webhook-signature',
  'x-hub-signature-256',
  'x-hub-signature',
  'stripe-signature',
];

export const TIMESTAMP_TOLERANCE_SECONDS = 300;

/**
 * Whether a delivery is signed by one of the secrets. Never throws: a malformed header, body,
 * secret or clock is a refusal. `deliveryId` is returned only where the signature covers it
 * (Standard Webhooks' `webhook-id`), so it can be trusted as a deduplication key.
 *
 * A repeated header (array value): `webhook-signature` values are joined by a space, since a
 * repeated signature header is just a longer list of signatures; every other header takes its
 * first value.
 */
export function verifySignature(mode: SigningMode, delivery: SignedDelivery): SignatureCheck {
  try {
    if (mode === 'none') return { ok: true };
    if (!Buffer.isBuffer(delivery.rawBody)) return refuse('body is not raw bytes');
    const secrets = Array.isArray(delivery.secrets) ? delivery.secrets.filter(isNonEmptyString) : [];
    if (secrets.length === 0) return refuse('no signing secret configured');
    const nowSeconds = Math.floor(delivery.now.getTime() / 1000);
    if (!Number.isSafeInteger(nowSeconds)) return refuse('invalid clock');
    const headers = delivery.headers ?? {};
    switch (mode) {
      case 'standard':
        return verifyStandard(delivery.rawBody, headers, secrets, nowSeconds);
      case 'github':
        return verifyGithub(delivery.rawBody, headers, secrets);
      case 'stripe':
        return verifyStripe(delivery.rawBody, headers, secrets, nowSeconds);
      default: {
        const unknown: never = mode;
        return refuse(`unknown signing mode ${JSON.stringify(String(unknown)).slice(0, 40)}`);
      }
    }
  } catch {
    // Defence in depth for the "never throws" promise (e.g. a hostile object in place of a Date).
    return refuse('signature could not be checked');
  }
}

type Headers = SignedDelivery['headers'];

function verifyStandard(body: Buffer, headers: Headers, secrets: string[], nowSeconds: number): SignatureCheck {
  const id = firstHeader(headers, 'webhook-id');
  const timestamp = firstHeader(headers, 'webhook-timestamp');
  const signature = joinedHeader(headers, 'webhook-signature');
  if (!id || !timestamp || !signature) {
    return refuse('missing webhook-id, webhook-timestamp or webhook-signature header');
  }
  const stale = checkTimestamp(timestamp, nowSeconds);
  if (stale) return stale;
  // Entries of other versions (v1a: asymmetric) are skipped, not refused: senders may add them.
  const provided = signature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => entry.slice('v1,'.length));
  if (provided.length === 0) return refuse('webhook-signature has no v1 signature');
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), body]);
  const keys = secrets.map(standardKey).filter((key): key is Buffer => key !== undefined);
  if (keys.length === 0) return refuse('no valid whsec_ signing secret configured');
  const expected = keys.map((key) => hmac(key, signed).toString('base64'));
  return anyMatch(expected, provided) ? { ok: true, deliveryId: id } : refuse('no matching signature');
}

/** `whsec_<base64>` or bare base64; anything that is not canonical base64 of at least one byte is unusable. */
function standardKey(secret: string): Buffer | undefined {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  // Buffer's decoder silently skips invalid characters, which would yield a different key than intended.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const key = Buffer.from(encoded, 'base64');
  const roundTrip = key.toString('base64').replace(/=+$/, '');
  return key.length > 0 && roundTrip === encoded.replace(/=+$/, '') ? key : undefined;
}

function verifyGithub(body: Buffer, headers: Headers, secrets: string[]): SignatureCheck {
  const header = firstHeader(headers, 'x-hub-signature-256');
  if (!header) return refuse('missing x-hub-signature-256 header');
  if (!header.startsWith('sha256=')) return refuse('x-hub-signature-256 is not sha256=<hex>');
  const provided = header.slice('sha256='.length);
  const expected = secrets.map((secret) => hmac(Buffer.from(secret, 'utf8'), body).toString('hex'));
  return anyMatch(expected, [provided]) ? { ok: true } : refuse('no matching signature');
}

function verifyStripe(body: Buffer, headers: Headers, secrets: string[], nowSeconds: number): SignatureCheck {
  const header = firstHeader(headers, 'stripe-signature');
  if (!header) return refuse('missing stripe-signature header');
  const timestamps: string[] = [];
  const provided: string[] = [];
  for (const item of header.split(',')) {
    const at = item.indexOf('=');
    const [key, value] = at < 0 ? [item, ''] : [item.slice(0, at), item.slice(at + 1)];
    if (key === 't') timestamps.push(value);
    if (key === 'v1') provided.push(value);
  }
  // Two timestamps would leave it ambiguous which one the signature covers.
  if (timestamps.length !== 1) return refuse('stripe-signature must carry exactly one t=');
  const timestamp = timestamps[0]!;
  const stale = checkTimestamp(timestamp, nowSeconds);
  if (stale) return stale;
  if (provided.length === 0) return refuse('stripe-signature has no v1 signature');
  const signed = Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), body]);
  const expected = secrets.map((secret) => hmac(Buffer.from(secret, 'utf8'), signed).toString('hex'));
  return anyMatch(expected, provided) ? { ok: true } : refuse('no matching signature');
}

/** A refusal when the unix-seconds timestamp is unreadable or outside the tolerance, either way. */
function checkTimestamp(timestamp: string, nowSeconds: number): SignatureCheck | undefined {
  if (!/^[0-9]{1,15}$/.test(timestamp)) return refuse('timestamp is not unix seconds');
  if (Math.abs(nowSeconds - Number(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS) {
    return refuse(`timestamp is more than ${TIMESTAMP_TOLERANCE_SECONDS} s from now`);
  }
  return undefined;
}

function hmac(key: Buffer, content: Buffer): Buffer {
  return createHmac('sha256', key).update(content).digest();
}

/**
 * Whether any provided signature equals any expected one. The encoded texts are compared, not
 * decoded bytes: Node's base64/hex decoders skip or stop at bad characters, so decoding would
 * accept altered signatures.
 */
function anyMatch(expected: readonly string[], provided: readonly string[]): boolean {
  let matched = false;
  for (const e of expected) {
    const a = Buffer.from(e, 'utf8');
    for (const p of provided) {
      const b = Buffer.from(p, 'utf8');
      // No early exit: the time taken should not tell which secret or entry matched.
      if (a.length === b.length && timingSafeEqual(a, b)) matched = true;
    }
  }
  return matched;
}

function firstHeader(headers: Headers, name: string): string | undefined {
  const value: unknown = headers[name];
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function joinedHeader(headers: Headers, name: string): string | undefined {
  const value: unknown = headers[name];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string').join(' ');
  return typeof value === 'string' ? value : undefined;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function refuse(reason: string): SignatureCheck {
  return { ok: false, reason };
}
