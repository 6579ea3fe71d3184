import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerConsole, NOT_BUILT_MESSAGE } from './console-answer';
import { loadConsoleAssets, lookUpConsolePath } from './console-assets';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'thodare-console-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function build(files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('the console build in memory', () => {
  it('is absent without an index.html, and the answer then says how to build it', () => {
    expect(loadConsoleAssets(join(dir, 'nowhere'))).toBeUndefined();
    expect(loadConsoleAssets(build({ 'assets/a.js': 'x' }))).toBeUndefined();
    const answer = answerConsole(undefined, '');
    expect([answer.status, answer.body]).toEqual([404, NOT_BUILT_MESSAGE]);
    expect(NOT_BUILT_MESSAGE).toContain('npm run build');
  });

  it('types files by extension and caches only the hashed assets for good', () => {
    const files = loadConsoleAssets(build({ 'index.html': '<!doctype html>', 'assets/index-1a2b.js': 'js', 'assets/index-1a2b.css': 'css', 'logo.svg': '<svg/>' }))!;
    expect([...files.keys()].sort()).toEqual(['assets/index-1a2b.css', 'assets/index-1a2b.js', 'index.html', 'logo.svg']);
    expect(files.get('assets/index-1a2b.js')).toMatchObject({ contentType: 'text/javascript; charset=utf-8', cacheControl: 'public, max-age=31536000, immutable' });
    expect(files.get('assets/index-1a2b.css')?.contentType).toBe('text/css; charset=utf-8');
    expect(files.get('logo.svg')).toMatchObject({ contentType: 'image/svg+xml', cacheControl: 'no-cache' });
    expect(files.get('index.html')).toMatchObject({ contentType: 'text/html; charset=utf-8', cacheControl: 'no-cache' });
  });

  it('falls back to index.html for client routes only, and refuses hostile paths', () => {
    const files = loadConsoleAssets(build({ 'index.html': 'app', 'assets/x.js': 'js' }))!;
    const body = (path: string) => {
      const found = lookUpConsolePath(files, path);
      return found.kind === 'file' ? found.asset.body.toString() : 404;
    };
    expect(['', 'runs', 'runs/abc', 'approvals/tok_x-Y_z', 'assets/x.js'].map(body)).toEqual(['app', 'app', 'app', 'app', 'js']);
    expect(['assets/y.js', 'favicon.ico', 'runs/a.csv'].map(body)).toEqual([404, 404, 404]);
    const hostile = ['../package.json', '../../package.json', 'assets/../../package.json', '..\\package.json', 'a/./b', './index.html', 'runs//x', '/etc/passwd', 'x\0y', '..'];
    expect(hostile.map(body)).toEqual(hostile.map(() => 404));
  });
});
