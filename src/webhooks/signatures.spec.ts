import { SIGNING_MODES, type SigningMode } from '../domain/webhook/webhook-params';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import {
  SIGNATURE_HEADERS,
  SignedDelivery,
  TIMESTAMP_TOLERANCE_SECONDS,
  verifySignature,
} from './signatures';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const whsec = (fill: number) => `whsec_${Buffer.alloc(32, fill).toString('base64')}`;
const NEW_SECRET = whsec(1);
const OLD_SECRET = whsec(2);
const OTHER_SECRET = whsec(3);
const BODY = Buffer.from('{"type":"order.paid","data":{"id":"ord_1","total":12.5,"note":"café ☕"}}');

/** Standard Webhooks signing, done with the reference implementation rather than our code. */
function standardHeaders(secret: string, body: Buffer | string, at = NOW_S, id = 'msg_2a') {
  const signature = new Webhook(secret).sign(id, new Date(at * 1000), body);
  return { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': signature };
}

function delivery(headers: SignedDelivery['headers'], overrides: Partial<SignedDelivery> = {}): SignedDelivery {
  return { rawBody: BODY, headers, secrets: [NEW_SECRET], now: NOW, ...overrides };
}

const hexHmac = (key: string, content: string | Buffer) => createHmac('sha256', key).update(content).digest('hex');

describe('verifySignature: standard (Standard Webhooks)', () => {
  it('accepts a signature made by the standardwebhooks package, and returns the webhook-id', () => {
    expect(verifySignature('standard', delivery(standardHeaders(NEW_SECRET, BODY)))).toEqual({
      ok: true,
      deliveryId: 'msg_2a',
    });
  });

  it('agrees with the reference verify, accepting or refusing, over random deliveries', () => {
    jest.useFakeTimers({ now: NOW });
    try {
      fc.assert(
        fc.property(
          fc.string({ unit: 'grapheme', maxLength: 200 }),
          fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }).filter((id) => !/[\s]/.test(id)),
          fc.integer({ min: -400, max: 400 }),
          fc.boolean(),
          (payload, id, offset, rightSecret) => {
            const headers = standardHeaders(rightSecret ? NEW_SECRET : OTHER_SECRET, payload, NOW_S + offset, id);
            let referenceOk = true;
            try {
              new Webhook(NEW_SECRET).verify(payload, headers, { jsonParse: false });
            } catch {
              referenceOk = false;
            }
            const ours = verifySignature('standard', delivery(headers, { rawBody: Buffer.from(payload) }));
            expect(ours.ok).toBe(referenceOk);
          },
        ),
      );
    } finally {
      jest.useRealTimers();
    }
  });

  it('accepts a header with two signatures when only the second is valid', () => {
    const good = standardHeaders(NEW_SECRET, BODY);
    const bad = standardHeaders(OTHER_SECRET, BODY)['webhook-signature'];
    const headers = { ...good, 'webhook-signature': `${bad} ${good['webhook-signature']}` };
    expect(verifySignature('standard', delivery(headers)).ok).toBe(true);
  });

  it('ignores entries of other versions such as v1a', () => {
    const good = standardHeaders(NEW_SECRET, BODY);
    const signature = good['webhook-signature'].slice('v1,'.length);
    const onlyV1a = { ...good, 'webhook-signature': `v1a,${signature}` };
    expect(verifySignature('standard', delivery(onlyV1a))).toMatchObject({ ok: false });
    const mixed = { ...good, 'webhook-signature': `v1a,${signature} v1,${signature}` };
    expect(verifySignature('standard', delivery(mixed)).ok).toBe(true);
  });

  it('refuses a body with one changed byte', () => {
    const headers = standardHeaders(NEW_SECRET, BODY);
    for (const at of [0, 20, BODY.length - 1]) {
      const altered = Buffer.from(BODY);
      altered[at] = (altered[at] ?? 0) ^ 1;
      expect(verifySignature('standard', delivery(headers, { rawBody: altered }))).toEqual({
        ok: false,
        reason: 'no matching signature',
      });
    }
  });

  it('refuses the same JSON re-serialised with other whitespace', () => {
    const headers = standardHeaders(NEW_SECRET, '{"a":1}');
    expect(verifySignature('standard', delivery(headers, { rawBody: Buffer.from('{"a":1}') })).ok).toBe(true);
    expect(verifySignature('standard', delivery(headers, { rawBody: Buffer.from('{ "a": 1 }') })).ok).toBe(false);
  });

  it('checks the raw bytes, including bytes that are not UTF-8', () => {
    const binary = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
    const key = Buffer.alloc(32, 1);
    const signature = createHmac('sha256', key)
      .update(Buffer.concat([Buffer.from(`msg_b.${NOW_S}.`), binary]))
      .digest('base64');
    const headers = {
      'webhook-id': 'msg_b',
      'webhook-timestamp': String(NOW_S),
      'webhook-signature': `v1,${signature}`,
    };
    expect(verifySignature('standard', delivery(headers, { rawBody: binary })).ok).toBe(true);
    expect(verifySignature('standard', delivery(headers, { rawBody: Buffer.from(binary.toString()) })).ok).toBe(false);
  });

  it.each([-301, 301])('refuses a timestamp %i s from now', (offset) => {
    const result = verifySignature('standard', delivery(standardHeaders(NEW_SECRET, BODY, NOW_S + offset)));
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('timestamp') });
  });

  it.each([-299, 299, -TIMESTAMP_TOLERANCE_SECONDS, TIMESTAMP_TOLERANCE_SECONDS])(
    'accepts a timestamp %i s from now',
    (offset) => {
      expect(verifySignature('standard', delivery(standardHeaders(NEW_SECRET, BODY, NOW_S + offset))).ok).toBe(true);
    },
  );

  it('accepts a signature by the previous secret during rotation, not one by an unrelated secret', () => {
    const rotating = { secrets: [NEW_SECRET, OLD_SECRET] };
    expect(verifySignature('standard', delivery(standardHeaders(OLD_SECRET, BODY), rotating)).ok).toBe(true);
    expect(verifySignature('standard', delivery(standardHeaders(OTHER_SECRET, BODY), rotating)).ok).toBe(false);
  });

  it('decodes a secret without the whsec_ prefix as bare base64', () => {
    const bare = NEW_SECRET.slice('whsec_'.length);
    expect(verifySignature('standard', delivery(standardHeaders(NEW_SECRET, BODY), { secrets: [bare] })).ok).toBe(true);
  });

  it('joins a repeated webhook-signature header, so a valid second value passes', () => {
    const good = standardHeaders(NEW_SECRET, BODY);
    const bad = standardHeaders(OTHER_SECRET, BODY)['webhook-signature'];
    const headers = { ...good, 'webhook-signature': [bad, good['webhook-signature']] };
    expect(verifySignature('standard', delivery(headers)).ok).toBe(true);
  });

  it.each([['webhook-id'], ['webhook-timestamp'], ['webhook-signature']])('refuses when %s is missing', (name) => {
    const headers: SignedDelivery['headers'] = { ...standardHeaders(NEW_SECRET, BODY), [name]: undefined };
    expect(verifySignature('standard', delivery(headers))).toEqual({
      ok: false,
      reason: expect.stringContaining(name),
    });
  });

  it.each([
    ['a timestamp in milliseconds', { 'webhook-timestamp': String(NOW.getTime()) }],
    ['a non-numeric timestamp', { 'webhook-timestamp': `${NOW_S}abc` }],
    ['a signature without a version', { 'webhook-signature': 'abc' }],
    ['a signature that is not base64', { 'webhook-signature': 'v1,@@@@' }],
    ['an empty signature', { 'webhook-signature': 'v1,' }],
  ])('refuses %s', (_case, override) => {
    const result = verifySignature('standard', delivery({ ...standardHeaders(NEW_SECRET, BODY), ...override }));
    expect(result).toEqual({ ok: false, reason: expect.any(String) });
  });

  it('refuses when no usable secret is configured', () => {
    const headers = standardHeaders(NEW_SECRET, BODY);
    for (const secrets of [[], [''], ['whsec_'], ['whsec_not base64!']]) {
      expect(verifySignature('standard', delivery(headers, { secrets }))).toEqual({
        ok: false,
        reason: expect.stringContaining('secret'),
      });
    }
  });
});

describe('verifySignature: github', () => {
  const secret = "It's a Secret to Everybody";
  const headers = (key: string, body: Buffer = BODY) => ({ 'x-hub-signature-256': `sha256=${hexHmac(key, body)}` });

  it('accepts sha256=<hex> of the body under the secret, with no delivery id', () => {
    expect(verifySignature('github', delivery(headers(secret), { secrets: [secret] }))).toEqual({ ok: true });
  });

  it('matches GitHub’s documented example', () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    const example = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    const result = verifySignature('github', {
      rawBody: Buffer.from('Hello, World!'),
      headers: { 'x-hub-signature-256': example },
      secrets: [secret],
      now: NOW,
    });
    expect(result.ok).toBe(true);
  });

  it('refuses a wrong secret, a changed body and a malformed header', () => {
    expect(verifySignature('github', delivery(headers('wrong'), { secrets: [secret] })).ok).toBe(false);
    const changed = Buffer.concat([BODY, Buffer.from(' ')]);
    const changedDelivery = delivery(headers(secret), { secrets: [secret], rawBody: changed });
    expect(verifySignature('github', changedDelivery).ok).toBe(false);
    const sha1 = { 'x-hub-signature-256': `sha1=${hexHmac(secret, BODY)}` };
    expect(verifySignature('github', delivery(sha1, { secrets: [secret] }))).toEqual({
      ok: false,
      reason: expect.stringContaining('sha256='),
    });
  });

  it('accepts the previous secret during rotation', () => {
    expect(verifySignature('github', delivery(headers('old'), { secrets: ['new', 'old'] })).ok).toBe(true);
  });
});

describe('verifySignature: stripe', () => {
  const secret = 'whsec_stripe_test_secret';
  const sign = (key: string, at: number, body: Buffer = BODY) =>
    hexHmac(key, Buffer.concat([Buffer.from(`${at}.`), body]));
  const stripe = (value: string | string[]) => delivery({ 'stripe-signature': value }, { secrets: [secret] });

  it('accepts t=<unix>,v1=<hex> over "t.body" keyed with the whole whsec_ string', () => {
    expect(verifySignature('stripe', stripe(`t=${NOW_S},v1=${sign(secret, NOW_S)}`))).toEqual({ ok: true });
  });

  it('accepts any matching v1 among several, ignoring v0', () => {
    const header = `t=${NOW_S},v1=${sign('wrong', NOW_S)},v1=${sign(secret, NOW_S)},v0=${sign('x', NOW_S)}`;
    expect(verifySignature('stripe', stripe(header)).ok).toBe(true);
  });

  it('refuses a wrong secret', () => {
    expect(verifySignature('stripe', stripe(`t=${NOW_S},v1=${sign('whsec_other', NOW_S)}`))).toEqual({
      ok: false,
      reason: 'no matching signature',
    });
  });

  it.each([-301, 301])('refuses a timestamp %i s from now, even when correctly signed', (offset) => {
    const at = NOW_S + offset;
    expect(verifySignature('stripe', stripe(`t=${at},v1=${sign(secret, at)}`))).toEqual({
      ok: false,
      reason: expect.stringContaining('timestamp'),
    });
  });

  it.each([-299, 299])('accepts a timestamp %i s from now', (offset) => {
    const at = NOW_S + offset;
    expect(verifySignature('stripe', stripe(`t=${at},v1=${sign(secret, at)}`)).ok).toBe(true);
  });

  it('refuses a signature moved to another timestamp, and a header with two timestamps', () => {
    expect(verifySignature('stripe', stripe(`t=${NOW_S + 1},v1=${sign(secret, NOW_S)}`)).ok).toBe(false);
    const twoTimes = `t=${NOW_S + 1},t=${NOW_S},v1=${sign(secret, NOW_S)}`;
    expect(verifySignature('stripe', stripe(twoTimes))).toEqual({ ok: false, reason: expect.stringContaining('t=') });
  });

  it('takes the first value of a repeated stripe-signature header', () => {
    const good = `t=${NOW_S},v1=${sign(secret, NOW_S)}`;
    const bad = `t=${NOW_S},v1=${sign('wrong', NOW_S)}`;
    expect(verifySignature('stripe', stripe([good, bad])).ok).toBe(true);
    expect(verifySignature('stripe', stripe([bad, good])).ok).toBe(false);
  });

  it.each(['', 't=', `t=${NOW_S}`, `v1=${'0'.repeat(64)}`, 't=abc,v1=00', '=,=,,'])('refuses "%s"', (value) => {
    expect(verifySignature('stripe', stripe(value))).toEqual({ ok: false, reason: expect.any(String) });
  });
});

describe('verifySignature: every mode', () => {
  it('accepts anything in mode none', () => {
    expect(verifySignature('none', delivery({}, { secrets: [] }))).toEqual({ ok: true });
  });

  const signedModes = SIGNING_MODES.filter((mode) => mode !== 'none');

  it.each(signedModes)('%s: refuses with a reason when headers are missing', (mode) => {
    expect(verifySignature(mode, delivery({}))).toEqual({ ok: false, reason: expect.any(String) });
  });

  it('refuses an unknown mode, an invalid clock and a body that is not a Buffer, without throwing', () => {
    const valid = delivery(standardHeaders(NEW_SECRET, BODY));
    expect(verifySignature('hmac' as SigningMode, valid).ok).toBe(false);
    expect(verifySignature('standard', { ...valid, now: new Date(Number.NaN) }).ok).toBe(false);
    expect(verifySignature('standard', { ...valid, rawBody: BODY.toString() as unknown as Buffer }).ok).toBe(false);
  });

  it('never throws and never accepts hostile header values', () => {
    const hostile = fc.oneof(
      fc.constant(undefined),
      fc.constant(''),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.array(fc.string({ unit: 'binary', maxLength: 50 }), { maxLength: 5 }),
      fc.constantFrom('v1,', 'v1,====', 'sha256=', 't=,v1=', 'v1,é☕\u0000', `t=${NOW_S},v1=ZZ`, 'whsec_'),
      fc.constantFrom('v1,'.repeat(100_000), 'a'.repeat(1_000_000), ' '.repeat(100_000), ','.repeat(100_000)),
      fc.anything(),
    );
    const names = [...SIGNATURE_HEADERS, 'webhook-id', 'webhook-timestamp'];
    fc.assert(
      fc.property(
        fc.constantFrom(...signedModes),
        fc.dictionary(fc.constantFrom(...names), hostile),
        fc.uint8Array({ maxLength: 100 }),
        (mode, headers, body) => {
          const hostileDelivery = delivery(headers as SignedDelivery['headers'], {
            rawBody: Buffer.from(body),
            secrets: [NEW_SECRET, 'raw'],
          });
          const result = verifySignature(mode, hostileDelivery);
          expect(result).toEqual({ ok: false, reason: expect.any(String) });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('lists every header that carries a signature', () => {
    expect([...SIGNATURE_HEADERS].sort()).toEqual(
      ['stripe-signature', 'webhook-signature', 'x-hub-signature', 'x-hub-signature-256'].sort(),
    );
  });
});
