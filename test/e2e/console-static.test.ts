import { request as httpRequest } from 'node:http';
import { startTestApp, type TestApp } from '../support/app';

/**
 * The web console's files under /console (built into dist/console by `npm run build`): right
 * content types, immutable caching for hashed assets only, the app's index.html for client
 * routes, and nothing outside the build for any path, however it is encoded.
 */
let app: TestApp;
let index: string;

beforeAll(async () => {
  app = await startTestApp('console_static', {}, { api: true, worker: false });
  const res = await app.request('GET', '/console/');
  if (res.status !== 200) throw new Error(`the console is not built (run \`npm run build\` first): ${res.status} ${res.text}`);
  index = res.text;
});
afterAll(() => app?.close());

/** A request whose path goes out byte for byte (fetch would resolve `..` before sending). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const assetPaths = () => [...index.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);

describe('the console files', () => {
  it('serves index.html with security headers that keep the token page private and unframed', async () => {
    const res = await app.request('GET', '/console/');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.text).toContain('<div id="root"></div>');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves the hashed script and stylesheet with their content types, cached for good', async () => {
    const paths = assetPaths();
    expect(paths.some((p) => p.endsWith('.js'))).toBe(true);
    expect(paths.some((p) => p.endsWith('.css'))).toBe(true);
    for (const path of paths) {
      const res = await app.request('GET', path);
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers.get('content-type')).toBe(path.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
  });

  it('answers client routes with the app, so a deep link or a reload works', async () => {
    for (const path of ['/console/runs', '/console/runs/3f2a-run', '/console/approvals/tok_abc-DEF_123', '/console/audit?type=RunStarted']) {
      const res = await app.request('GET', path);
      expect([path, res.status, res.headers.get('content-type')]).toEqual([path, 200, 'text/html; charset=utf-8']);
      expect(res.text).toBe(index);
    }
    const bare = await fetch(`${app.url}/console?x=1`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([301, '/console/?x=1']);
  });

  it('answers a missing file with 404, never with the HTML app', async () => {
    for (const path of ['/console/assets/missing-0000.js', '/console/favicon.ico', '/console/runs/report.csv']) {
      const res = await app.request('GET', path);
      expect([path, res.status, res.body?.error]).toEqual([path, 404, 'not_found']);
    }
  });

  it('never serves anything outside the build, whatever the path encodes', async () => {
    const hostile = [
      '/console/..%2f..%2fpackage.json',
      '/console/..%2F..%2F..%2Fpackage.json',
      '/console/%2e%2e/%2e%2e/package.json',
      '/console/assets/..%2f..%2f..%2fpackage.json',
      '/console/..%5c..%5cpackage.json',
      '/console/.%2f.%2fpackage.json',
      '/console/assets//etc/passwd',
      '/console/%00',
      '/console/../package.json',
      '/console/../../src/main.ts',
      '/console/assets/../../../package.json',
    ];
    for (const path of hostile) {
      const res = await rawGet(path);
      expect([path, res.status, res.body.includes('"dependencies"') || res.body.includes('root:')]).toEqual([path, 404, false]);
    }
  });

  it('answers HEAD without a body, and needs no credentials', async () => {
    const head = await fetch(`${app.url}/console/`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([200, 'text/html; charset=utf-8', '']);
  });

  it('keeps the console out of the API contract (/openapi.json)', async () => {
    const doc = (await app.request('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
    expect(Object.keys(doc.paths)).toContain('/api/approvals');
  });
});
