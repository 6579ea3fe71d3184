import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createClient, type ThodareClient } from '../../client/index';
import { ApiFailure, EXIT, RunUnsuccessful, UsageError } from './errors';
import { httpFetch } from './http-fetch';
import { formatOf, type Format } from './output';
import { readProfile } from './profiles';
import { MAX_BODY_DEPTH, nestsDeeperThan } from '../../domain/json-depth';

/** Flags every client command takes. */
export interface CommonFlags {
  output?: string;
  profile?: string;
}

export interface Context {
  client: ThodareClient;
  format: Format;
}

/**
 * The server and key: `THODARE_URL` / `THODARE_API_KEY` override the profile chosen by
 * `--profile` (or `THODARE_PROFILE`, else `default`) that `thodare login` saved.
 */
export function contextOf(flags: CommonFlags, version: string): Context {
  const format = formatOf(flags.output);
  const env = process.env;
  const profile = readProfile(flags.profile ?? env.THODARE_PROFILE);
  const baseUrl = env.THODARE_URL || profile?.url;
  const apiKey = env.THODARE_API_KEY || profile?.apiKey;
  if (!baseUrl) throw new UsageError('no server: set THODARE_URL (and THODARE_API_KEY) or run `thodare login --url … --api-key …`');
  return { client: cliClient(baseUrl, version, apiKey), format };
}

/** The client every command talks through: the CLI's agent label, and `httpFetch` (see there for why). */
export function cliClient(baseUrl: string, version: string, apiKey?: string): ThodareClient {
  // Else the first request fails as if the server were unreachable (exit 3), or worse.
  if (!/^https?:$/.test(URL.canParse(baseUrl) ? new URL(baseUrl).protocol : '')) throw new UsageError(`the server URL "${baseUrl}" is not an http:// or https:// URL`);
  const agent = `thodare-cli/${version}`;
  return apiKey ? createClient({ baseUrl, agent, apiKey, fetch: httpFetch }) : createClient({ baseUrl, agent, fetch: httpFetch });
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** Awaits a client call: its data, or an {@link ApiFailure} carrying the API's error code. */
export async function call<T>(pending: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await pending;
  } catch (error) {
    throw new ApiFailure(0, 'unreachable', error instanceof Error ? causeOf(error) : String(error));
  }
  if (answer.response.ok) return answer.data as T;
  throw failureOf(answer.response, answer.error);
}

export function failureOf(response: Response, body: unknown): ApiFailure {
  const error = body as { error?: unknown; message?: unknown } | undefined;
  const code = typeof error?.error === 'string' ? error.error : response.status === 404 ? 'not_found' : `http_${response.status}`;
  const message = typeof error?.message === 'string' ? error.message : response.statusText;
  return new ApiFailure(response.status, code, message);
}

function causeOf(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}

/** `--input`-style JSON: inline JSON, `@file.json`, or `@-` (stdin). */
export function readJson(value: string, flag: string): unknown {
  return parseJson(value.startsWith('@') ? readSource(value.slice(1), flag) : value, flag);
}

export function parseJson(text: string, flag: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${flag}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  // The server refuses it anyway; far deeper, writing the request overflowed the stack first, and
  // that was reported as the server being unreachable.
  if (nestsDeeperThan(value, MAX_BODY_DEPTH)) throw new UsageError(`${flag}: nests objects and arrays deeper than ${MAX_BODY_DEPTH} levels, which the server refuses`);
  return value;
}

/** A file's text, or stdin's for `-`. */
export function readSource(path: string, flag: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${path === '-' ? 'stdin' : path}: ${(error as Error).message}`);
  }
}

export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag}: "${value}" is not a whole number`);
  return n;
}

export const message = (line: string) => process.stderr.write(`${line}\n`);

/**
 * A client command's action: runs `task` with the context built from the command's flags and
 * turns every failure into its message on stderr and its exit code.
 */
export function remote<A extends unknown[]>(version: string, task: (context: Context, ...args: A) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args.at(-1) as Command;
    try {
      await task(contextOf(command.opts<CommonFlags>(), version), ...(args.slice(0, -1) as A));
    } catch (error) {
      process.exitCode = exitCodeOf(error);
    }
  };
}

/** Prints the failure and says which exit code it means. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) {
    message(`error: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof ApiFailure) {
    message(`error: ${error.code}: ${error.message}`);
    return error.status === 404 || error.code === 'not_found' ? EXIT.notFound : EXIT.api;
  }
  if (error instanceof RunUnsuccessful) {
    message(error.message);
    return EXIT.runUnsuccessful;
  }
  message(`error: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT.api;
}

/** A client subcommand with the flags every one of them takes. */
export function leaf(group: Command, name: string, description: string): Command {
  return group
    .command(name)
    .description(description)
    .option('-o, --output <format>', 'table, json or jsonl (default: table on a terminal, json otherwise)')
    .option('--profile <name>', 'a profile saved by `thodare login` (THODARE_URL / THODARE_API_KEY override it)');
}

/** `--limit` and `--after` for list commands. */
export function paged(command: Command): Command {
  return command.option('--limit <n>', 'at most this many items').option('--after <cursor>', 'the `next` cursor of the previous page');
}

export interface PageFlags {
  limit?: string;
  after?: string;
}

export function pageQuery(flags: PageFlags): { limit?: number; after?: string } {
  return { ...(flags.limit ? { limit: positiveInt(flags.limit, '--limit') } : {}), ...(flags.after ? { after: flags.after } : {}) };
}

/** The same for streams paged by version (`after` is a number). */
export function versionPageQuery(flags: PageFlags): { limit?: number; after?: number } {
  return { ...(flags.limit ? { limit: positiveInt(flags.limit, '--limit') } : {}), ...(flags.after ? { after: positiveInt(flags.after, '--after') } : {}) };
}
