import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

/** One built file of the console, held in memory with the headers it is served with. */
export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  cacheControl: string;
}

/** What a request path under `/console/` answers. */
export type ConsoleLookup = { kind: 'file'; asset: ConsoleAsset } | { kind: 'not_found' };

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite puts content-hashed names under `assets/`: a name never changes meaning, so it may be cached for good. */
const HASHED_DIR = 'assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Everything else (index.html above all) is revalidated, so a deploy shows at the next load. */
const REVALIDATE = 'no-cache';

/**
 * The built console (`dist/console`, made by `vite build`), read once at start-up into a map of
 * relative path → file. Requests are answered from the map alone, never by opening a path built
 * from the URL, so no request path can reach a file outside the build, whatever it encodes.
 * `undefined` when the console was not built.
 */
export function loadConsoleAssets(dir: string): Map<string, ConsoleAsset> | undefined {
  const files = new Map<string, ConsoleAsset>();
  try {
    collect(dir, '', files);
  } catch {
    return undefined; // no build directory
  }
  return files.has('index.html') ? files : undefined;
}

function collect(dir: string, prefix: string, files: Map<string, ConsoleAsset>): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const relative = `${prefix}${name}`;
    const stat = statSync(path);
    if (stat.isDirectory()) collect(path, `${relative}/`, files);
    else if (stat.isFile()) files.set(relative, asset(relative, readFileSync(path)));
  }
}

function asset(relative: string, body: Buffer): ConsoleAsset {
  return {
    body,
    contentType: CONTENT_TYPES[extname(relative).toLowerCase()] ?? 'application/octet-stream',
    cacheControl: relative.startsWith(HASHED_DIR) ? IMMUTABLE : REVALIDATE,
  };
}

/**
 * The answer for `/console/<path>` (`path` already percent-decoded): the built file of that
 * name; else, for a client-side route (no `.` in its last segment, not under `assets/`), the
 * app's `index.html`, whose router draws the page. A missing script, stylesheet or image is a
 * 404, never HTML, and so is a path with `..`, `.`, empty segments, a backslash or a NUL.
 */
export function lookUpConsolePath(files: ReadonlyMap<string, ConsoleAsset>, path: string): ConsoleLookup {
  const index = files.get('index.html');
  if (!index) return { kind: 'not_found' };
  if (path === '') return { kind: 'file', asset: index };
  const segments = path.split('/');
  const hostile = /[\\\0]/.test(path) || segments.some((s, i) => s === '..' || s === '.' || (s === '' && i < segments.length - 1));
  if (hostile) return { kind: 'not_found' };
  const file = files.get(path);
  if (file) return { kind: 'file', asset: file };
  const last = segments.filter(Boolean).at(-1) ?? '';
  if (path.startsWith(HASHED_DIR) || last.includes('.')) return { kind: 'not_found' };
  return { kind: 'file', asset: index };
}
