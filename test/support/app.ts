import { Writable } from 'node:stream';
import { parseConfig, type Config } from '../../src/config/config';
import { startApplication, type RunningThodare } from '../../src/main';
import { createTestDatabase, type TestDatabase } from './database';

export interface TestApp {
  url: string;
  db: TestDatabase;
  running: RunningThodare;
  config: Config;
  /** Every log line the app wrote, for asserting that secrets never appear. */
  logs: string[];
  /** fetch against the app, JSON in and out. */
  request(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  text: string;
}

/**
 * Boots the real application (Fastify on an ephemeral port) against a fresh schema. Pass env
 * overrides to configure it exactly as an operator would.
 */
export async function startTestApp(
  label: string,
  env: Record<string, string> = {},
  roles = { api: true, worker: true },
  /** Another instance's database: this app shares it, and `close()` leaves it to its owner. */
  shared?: TestDatabase,
  /** The deployment's own connectors, next to the builtins. */
  connectors: readonly unknown[] = [],
): Promise<TestApp> {
  const db = shared ?? (await createTestDatabase(label));
  // Generous budgets unless a test sets its own: every test client shares 127.0.0.1, and the
  // default 20 sign-ins/ups a minute per address would refuse a file's 21st sign-up.
  // Tests close apps with steps in flight: a short drain keeps them fast.
  const budgets = { THODARE_RATE_LIMIT_PER_MIN: '100000', THODARE_AUTH_RATE_LIMIT_PER_MIN: '100000', THODARE_SHUTDOWN_GRACE_MS: '1000' };
  const config = parseConfig({ THODARE_LOG_LEVEL: 'info', THODARE_WORKER_PORT: '0', ...budgets, ...env, PORT: '0', HOST: '127.0.0.1', THODARE_SCHEMA: db.schema, DATABASE_URL: db.url, THODARE_POLL_INTERVAL_MS: env.THODARE_POLL_INTERVAL_MS ?? '200' });
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const running = await startApplication({ config, databaseUrl: db.url, roles, connectors, logStream });
  const url = running.url ?? '';
  return {
    url,
    db,
    running,
    config,
    logs,
    request: (method, path, options = {}) => request(url, method, path, options),
    async close() {
      await running.close();
      if (!shared) await db.drop();
    },
  };
}

export async function request(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<TestResponse> {
  const hasBody = options.raw !== undefined || options.body !== undefined;
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}

/**
 * Fails each test of the file during which the app logged an error (pino level 50 and up): for
 * files whose every request is the client's mistake, never the server's. `app` is read when each
 * test starts (the file's `beforeAll` makes it).
 */
export function failOnErrorLogs(app: () => TestApp): void {
  let logged = 0;
  beforeEach(() => {
    logged = app().logs.length;
  });
  afterEach(() => expect(app().logs.slice(logged).filter((line) => /"level":(50|60)/.test(line))).toEqual([]));
}
