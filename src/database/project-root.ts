import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The package root, found by walking up from this file: the same answer from `src/` (tests)
 * and `dist/src/` (built), so `migrations/` and `package.json` are always found.
 */
export function projectRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'thodare') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package root not found above ${from}`);
    dir = parent;
  }
}

export function packageVersion(): string {
  return JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')).version;
}
