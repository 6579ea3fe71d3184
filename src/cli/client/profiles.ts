import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { issuesText } from '../../domain/zod-issues';
import { UsageError } from './errors';

/** A saved server and key. */
export interface Profile {
  url: string;
  apiKey: string;
}

type ProfileFile = { profiles: Record<string, Profile> };

/** What `thodare login` writes: anything else in the file (edited by hand, cut short) is named, not crashed on. */
const profileFileSchema: z.ZodType<ProfileFile> = z.object({ profiles: z.record(z.string(), z.object({ url: z.string(), apiKey: z.string() })) });

export const DEFAULT_PROFILE = 'default';

/** `$XDG_CONFIG_HOME/thodare/profiles.json` (else `~/.config/…`): it holds keys, so mode 0600. */
export function profilesPath(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'thodare', 'profiles.json');
}

function readFile(): ProfileFile {
  const path = profilesPath();
  if (!existsSync(path)) return { profiles: {} };
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${path} is not readable JSON: ${(error as Error).message}`);
  }
  const parsed = profileFileSchema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${path} is not a profiles file (${issuesText(parsed.error.issues, 'the file')}); fix it, or remove it and run \`thodare login\` again`);
  return parsed.data;
}

function writeFile(file: ProfileFile): string {
  const path = profilesPath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // `mode` applies only when the file is created
  return path;
}

export function readProfile(name = DEFAULT_PROFILE): Profile | undefined {
  return readFile().profiles[name];
}

/** Saves (or replaces) a profile; answers the file's path. */
export function saveProfile(name: string, profile: Profile): string {
  const file = readFile();
  file.profiles[name] = profile;
  return writeFile(file);
}

/** Forgets a profile; answers whether it existed. */
export function removeProfile(name: string): boolean {
  const file = readFile();
  if (!file.profiles[name]) return false;
  delete file.profiles[name];
  writeFile(file);
  return true;
}
