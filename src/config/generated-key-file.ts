import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * The contents of `<dataDir>/<name>`, creating it (mode 0600) with `generate()` when absent.
 * Written aside, then hard-linked into place: link() fails if the file exists, so of two
 * processes starting together exactly one installs its key, and nobody reads a half-written
 * file. `created` tells the caller whether this call made it.
 */
export async function readOrCreateKeyFile(dataDir: string, name: string, generate: () => string): Promise<{ file: string; contents: string; created: boolean }> {
  const dir = resolve(dataDir);
  const file = join(dir, name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, `${generate()}\n`, { mode: 0o600 });
  let created = false;
  try {
    await link(temporary, file);
    created = true;
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  return { file, contents: (await readFile(file, 'utf8')).trim(), created };
}

/**
 * `load`, run once and its result shared by every caller; a failed load is forgotten, so the
 * next caller tries again (a key file on a volume that was not mounted yet, say).
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
