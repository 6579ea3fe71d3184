import { defaultRole } from './auth.guard';
import { apiKeyFrom, cookie, sessionTokenFrom } from './request-credentials';
import { hashSecret, keyPrefix, newSecret } from './credentials';
import { hashPassword, verifyPassword } from './password';
import type { FastifyRequest } from 'fastify';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as FastifyRequest;

describe('defaultRole', () => {
  it('lets any member read, and needs member to write, when a route declares no role', () => {
    expect(defaultRole('GET')).toBe('viewer');
    expect(defaultRole('HEAD')).toBe('viewer');
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(defaultRole(method)).toBe('member');
  });
});

describe('credentials from a request', () => {
  it('reads keys from x-api-key or a thd_ bearer, sessions from another bearer or the cookie', () => {
    expect(apiKeyFrom(req({ 'x-api-key': 'thd_a' }))).toBe('thd_a');
    expect(apiKeyFrom(req({ authorization: 'Bearer thd_b' }))).toBe('thd_b');
    expect(apiKeyFrom(req({ authorization: 'Bearer ths_c' }))).toBeUndefined();
    expect(sessionTokenFrom(req({ authorization: 'bearer ths_c' }))).toEqual({ token: 'ths_c', fromCookie: false });
    expect(sessionTokenFrom(req({ authorization: 'Bearer thd_b' }))).toBeUndefined();
    expect(sessionTokenFrom(req({ cookie: 'a=1; thodare_session=ths_d' }))).toEqual({ token: 'ths_d', fromCookie: true });
    expect(sessionTokenFrom(req({ authorization: 'Basic xyz', cookie: 'thodare_session=ths_d' }))).toBeUndefined();
    expect(cookie('x=1;y=2', 'z')).toBeUndefined();
    expect(cookie('thodare_session=%E0%A4%A', 'thodare_session')).toBeUndefined(); // malformed %-escape: no credential
    expect(cookie('thodare_session=ths_%00', 'thodare_session')).toBeUndefined();
  });
});

describe('secrets', () => {
  it('makes prefixed 256-bit tokens and shows only a short prefix of keys', () => {
    const key = newSecret('thd_');
    expect(key).toMatch(/^thd_[A-Za-z0-9_-]{43}$/);
    expect(keyPrefix(key)).toBe(key.slice(0, 12));
    expect(hashSecret(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(newSecret('thd_')).not.toBe(key);
  });

  it('hashes passwords with a fresh salt and verifies them', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterx', a)).toBe(false);
    expect(await verifyPassword('anything', 'garbage')).toBe(false);
  });
});
