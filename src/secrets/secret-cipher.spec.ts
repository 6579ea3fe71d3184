import { randomBytes } from 'node:crypto';
import { keyId, openSecret, parseSecretKey, sealSecret } from './secret-cipher';

const key = randomBytes(32);

describe('secret cipher (AES-256-GCM)', () => {
  it('round-trips a value and never reuses an IV', () => {
    const a = sealSecret(key, 'org-1', 'TOKEN', 'xoxb-secret');
    const b = sealSecret(key, 'org-1', 'TOKEN', 'xoxb-secret');
    expect(a.iv).toHaveLength(12);
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.toString('utf8')).not.toContain('xoxb');
    expect(openSecret(key, 'org-1', 'TOKEN', a)).toBe('xoxb-secret');
  });

  it('refuses a ciphertext moved to another organization or name, or altered', () => {
    const sealed = sealSecret(key, 'org-1', 'TOKEN', 'value');
    expect(() => openSecret(key, 'org-2', 'TOKEN', sealed)).toThrow();
    expect(() => openSecret(key, 'org-1', 'OTHER', sealed)).toThrow();
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => openSecret(key, 'org-1', 'TOKEN', { ...sealed, ciphertext: flipped })).toThrow();
    expect(() => openSecret(randomBytes(32), 'org-1', 'TOKEN', sealed)).toThrow();
  });

  it('reads keys as 64 hex characters or base64 of 32 bytes, and fingerprints them', () => {
    expect(parseSecretKey(key.toString('hex')).equals(key)).toBe(true);
    expect(parseSecretKey(key.toString('base64')).equals(key)).toBe(true);
    expect(() => parseSecretKey('short')).toThrow(/32 bytes/);
    expect(keyId(key)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyId(key)).not.toBe(keyId(randomBytes(32)));
  });
});
