import * as crypto from 'node:crypto';
import { webhookIdOfToken, webhookToken } from './webhook-credentials';

// Counted: the MACs the module computes.
jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, createHmac: jest.fn(actual.createHmac) };
});

const key = crypto.randomBytes(32);
const webhookId = crypto.randomUUID();

describe('webhook tokens', () => {
  it('names their webhook, and a token with one changed byte or made under another key names nothing', () => {
    const token = webhookToken(key, webhookId);
    expect(webhookIdOfToken(key, token)).toBe(webhookId);
    const bytes = Buffer.from(token, 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    expect(webhookIdOfToken(key, bytes.toString('base64url'))).toBeUndefined();
    expect(webhookIdOfToken(crypto.randomBytes(32), token)).toBeUndefined();
    expect(webhookIdOfToken(key, 'not-a-token')).toBeUndefined();
  });

  it("computes a token's MAC once, not on every delivery", () => {
    const token = webhookToken(key, crypto.randomUUID());
    const hmacs = crypto.createHmac as jest.Mock;
    hmacs.mockClear();
    for (let i = 0; i < 3; i += 1) expect(webhookIdOfToken(key, token)).toBeDefined();
    expect(hmacs).toHaveBeenCalledTimes(1); // 3 before
  });
});
