import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(__dirname, '..', '..', 'bin', 'thodare.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `thodare …` (the compiled CLI; `npm test` builds first) to completion. */
export function runCli(args: string[], env: Record<string, string | undefined>, timeoutMs = 60_000, cwd?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), ...(cwd ? { cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`thodare ${args.join(' ')} timed out; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /**
   * Resolves once the output matches `pattern` (throws after `timeoutMs`). For log lines: the
   * start line is printed at once, but the logger's stream writes asynchronously, so a line logged
   * before it may reach the pipe after it.
   */
  outputMatching(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `thodare start|api|worker|projector` and resolves once it prints the API URL (or `worker: running`, `projector: running`). */
export function startServer(args: string[], env: Record<string, string | undefined>, timeoutMs = 60_000, cwd?: string): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), ...(cwd ? { cwd } : {}) });
    let output = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`thodare ${args.join(' ')} did not start; output: ${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const api = /api: (http:\/\/\S+)/.exec(output);
      if (api || /(worker|projector): running/.test(output)) {
        clearTimeout(timer);
        resolve({
          child,
          url: api?.[1] ?? '',
          output: () => output,
          outputMatching: async (pattern, waitMs = 10_000) => {
            for (const deadline = Date.now() + waitMs; !pattern.test(output); await new Promise((r) => setTimeout(r, 20))) {
              if (Date.now() > deadline) throw new Error(`thodare ${args.join(' ')} printed nothing matching ${pattern}; output: ${output}`);
            }
            return output;
          },
          stop: async (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => (output += chunk));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`thodare ${args.join(' ')} exited with ${code}; output: ${output}`));
    });
  });
}

/**
 * Starts several `thodare` processes at once (`[args, env]` each), resolving when all are up. If
 * one fails to start, the others are killed before the error is thrown: none is left running.
 */
export async function startServers<T extends Array<[args: string[], env: Record<string, string | undefined>]>>(...starts: T): Promise<{ [K in keyof T]: ServerProcess }> {
  const settled = await Promise.allSettled(starts.map(([args, env]) => startServer(args, env)));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.stop('SIGKILL') : undefined)));
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<ServerProcess>).value) as { [K in keyof T]: ServerProcess };
}

function cliEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  delete base.THODARE_SCHEMA;
  // Any free probe port for `thodare worker`: several run at once.
  return { ...base, THODARE_LOG_LEVEL: 'warn', THODARE_WORKER_PORT: '0', ...env };
}

/** One line of `runs logs --follow --output jsonl`. */
export interface FollowedEvent {
  version: number;
  type: string;
  blockId?: string;
}

/** `thodare runs logs <runId> --follow --output jsonl` running in the background. */
export interface FollowingLogs {
  lines(): FollowedEvent[];
  stderr(): string;
  /** Resolves once a printed line satisfies `predicate` (rejects if the command ends first). */
  until(predicate: (line: FollowedEvent) => boolean): Promise<void>;
  exited(): boolean;
  exit: Promise<number | null>;
  kill(): void;
}

export function followRunLogs(runId: string, env: Record<string, string | undefined>): FollowingLogs {
  const child = spawn(process.execPath, [BIN, 'runs', 'logs', runId, '--follow', '--output', 'jsonl'], { env: cliEnv(env) });
  let stdout = '';
  let stderr = '';
  let done = false;
  const lines = () => stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as FollowedEvent);
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    for (const wake of waiters) wake();
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    for (const wake of waiters) wake();
  });
  const exit = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      done = true;
      for (const wake of waiters) wake();
      resolve(code);
    }),
  );
  return {
    lines,
    stderr: () => stderr,
    exited: () => done,
    exit,
    kill: () => child.kill('SIGKILL'),
    until: (predicate) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (lines().some(predicate)) resolve();
          else if (done) reject(new Error(`the command ended first; stderr: ${stderr}`));
        };
        waiters.push(check);
        check();
      }),
  };
}
