import { z } from 'zod';
import { MAX_TIMER_MS } from '../worker/wake-timer';

/**
 * The one place that reads `process.env`. Parsed once at start-up; a bad configuration fails
 * with every problem listed (see `ConfigError`), never a stack trace.
 */
const schemaName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL identifier (letters, digits, _; at most 63 chars)');

const databaseUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be a postgres:// or postgresql:// URL with a host');

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be an integer')
  .min(0, 'must be between 0 and 65535')
  .max(65535, 'must be between 0 and 65535');

const positiveInt = z.coerce.number().int().positive();
/**
 * A wait that a timer keeps. Node's timers wait at most 2^31 − 1 ms (24.8 days) and fire a longer
 * one after 1 ms: a poll interval of 3e9 polled ~700 times a second on an idle worker.
 */
const milliseconds = positiveInt.max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} (24.8 days): a longer wait would fire at once, as Node timers do`);

/** A comma-separated list (`a, b,c`) as a string array; empty entries dropped. */
const list = z.string().transform((v) => v.split(',').map((x) => x.trim()).filter(Boolean));
/**
 * A list of organization ids that must name one: a worker given `,,,` for its only organizations
 * took it for no limit and ran every organization's runs, a tenant's worker serving everyone.
 */
const organizations = list.refine((ids) => ids.length > 0, 'names no organization: a comma-separated list of organization ids');

/** 32 bytes as 64 hex characters or base64. */
const secretKey = z.string().refine((v) => /^[0-9a-fA-F]{64}$/.test(v) || Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, as 64 hex characters or base64');

const configSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: databaseUrl.optional(),
  /** A streaming replica of the database, for reads that tolerate its lag (audit exports); see src/database/read-replica.ts. */
  THODARE_READ_REPLICA_URL: databaseUrl.optional(),
  THODARE_SCHEMA: schemaName.default('thodare'),
  THODARE_DATA_DIR: z.string().min(1).default('.thodare'),
  THODARE_EMBEDDED_PG_PORT: port.optional(),
  THODARE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  THODARE_BODY_LIMIT: positiveInt.default(1024 * 1024),
  THODARE_POOL_SIZE: positiveInt.default(10),
  THODARE_POLL_INTERVAL_MS: milliseconds.default(1000),
  THODARE_SIGNUP: z.enum(['open', 'invite', 'closed']).default('open'),
  // Past 2^31 every sign-in failed (the expiry is `make_interval(hours => $n::int)`); a hundred years is more than any session needs.
  THODARE_SESSION_TTL_HOURS: positiveInt.max(24 * 365 * 100, 'must be at most 876000 (a hundred years)').default(24 * 7),
  /** How long a looked-up session or API key is kept (0 = look up every request); see src/auth/credential-cache.ts. */
  THODARE_AUTH_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(60_000),
  THODARE_RATE_LIMIT_PER_MIN: positiveInt.default(600),
  THODARE_AUTH_RATE_LIMIT_PER_MIN: positiveInt.default(20),
  THODARE_SECRET_KEY: secretKey.optional(),
  THODARE_HTTP_ALLOW: list.default([]),
  THODARE_TEMPLATE_ENV: list.default([]),
  THODARE_SLACK_BASE_URL: z.url().default('https://slack.com/api'),
  THODARE_WORKER_SLOTS: positiveInt.default(64),
  /** The only organizations whose runs this worker takes (a tenant's own workers); see `WorkerOrganizations`. */
  THODARE_WORKER_ORGANIZATIONS: organizations.optional(),
  /** Organizations whose runs this worker leaves to others (the shared pool, without the tenants that have their own). */
  THODARE_WORKER_EXCLUDED_ORGANIZATIONS: organizations.optional(),
  /** Whether a worker process also keeps the async read models caught up (`false`: runs only; `thodare projector` keeps them). */
  THODARE_WORKER_PROJECTIONS: z.enum(['true', 'false']).default('true'),
  THODARE_LEASE_MS: milliseconds.default(30_000),
  THODARE_SHUTDOWN_GRACE_MS: milliseconds.default(25_000),
  THODARE_DB_CONNECT_TIMEOUT_MS: milliseconds.default(5_000),
  THODARE_STATEMENT_TIMEOUT_MS: milliseconds.default(15_000),
  THODARE_QUERY_TIMEOUT_MS: milliseconds.optional(),
  THODARE_IDLE_IN_TRANSACTION_TIMEOUT_MS: milliseconds.default(30_000),
  THODARE_TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  THODARE_METRICS_TOKEN: z.string().min(1).optional(),
  THODARE_WORKER_PORT: port.default(3001),
  THODARE_HTTP_HEADERS_TIMEOUT_MS: milliseconds.default(10_000),
  THODARE_HTTP_REQUEST_TIMEOUT_MS: milliseconds.default(30_000),
  THODARE_HTTP_KEEP_ALIVE_TIMEOUT_MS: milliseconds.default(5_000),
  /** Open run streams, NDJSON exports and `?waitMs=` waits one organization may hold on one instance (src/http/held-requests.ts). */
  THODARE_MAX_HELD_REQUESTS_PER_ORG: positiveInt.default(1_000),
  /** The same, for every organization together; keep it well under the process's open-file limit (`ulimit -n`). */
  THODARE_MAX_HELD_REQUESTS: positiveInt.default(10_000),
  /** The folded runs one instance keeps for reads, weighed as JSON (src/runs/run-reads.ts); 0 keeps none. */
  THODARE_RUN_READ_CACHE_MB: z.coerce.number().int().min(0).max(65_536).default(16),
  /** Audit verifications (`GET /api/audit/verify`, CPU-bound) one instance runs at once; one per organization (src/audit/audit-verifications.ts). */
  THODARE_MAX_AUDIT_VERIFICATIONS: positiveInt.default(2),
  THODARE_AUDIT_SCAN_ROWS: positiveInt.default(500_000),
  THODARE_PUBLIC_URL: z.url().optional(),
  THODARE_WEBHOOK_RATE_LIMIT_PER_MIN: positiveInt.default(60_000),
  THODARE_AUDIT_SIGNING_KEY: z.string().min(1).optional(),
  THODARE_AUDIT_CHECKPOINT_INTERVAL_MS: milliseconds.default(10_000),
  THODARE_AUDIT_TRUSTED_KEYS: z
    .string()
    .refine((v) => v.split(',').every((k) => Buffer.from(k.trim(), 'base64').length === 32), 'must be comma-separated base64 Ed25519 public keys (32 bytes each)')
    .optional(),
  THODARE_CONNECTORS: z.string().min(1).optional(),
  THODARE_MCP: z.enum(['on', 'off', 'true', 'false']).default('on'),
});

export type Config = {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  readReplicaUrl: string | undefined;
  schema: string;
  dataDir: string;
  embeddedPgPort: number | undefined;
  logLevel: z.infer<typeof configSchema>['THODARE_LOG_LEVEL'];
  bodyLimit: number;
  poolSize: number;
  pollIntervalMs: number;
  /** Who may sign up: anyone, only invited emails, or nobody (use `thodare admin create`). */
  signup: 'open' | 'invite' | 'closed';
  sessionTtlHours: number;
  authCacheMs: number;
  rateLimitPerMin: number;
  authRateLimitPerMin: number;
  /** Key for secrets at rest; when unset a dev key is generated in the data directory. */
  secretKey: string | undefined;
  /** Hosts `http_request` may reach even when they resolve to private/loopback addresses. */
  httpAllowHosts: string[];
  /** Environment variable names `{{env.NAME}}` may read (none by default). */
  templateEnv: string[];
  /** The values of the `templateEnv` names, read once at start-up (the run worker resolves `{{env.NAME}}` with them). */
  templateEnvValues: Record<string, string | undefined>;
  slackBaseUrl: string;
  /** Steps one worker process executes at once. */
  workerSlots: number;
  /** Whose runs this process's worker takes. */
  workerOrganizations: WorkerOrganizations;
  /** Whether a worker process also runs the async projections (`Roles.projections` decides where it is given). */
  workerProjections: boolean;
  /** How long a claimed run stays leased without renewal. */
  leaseMs: number;
  /**
   * On SIGTERM, how long steps in flight may take to finish and be recorded before the worker
   * aborts them and gives their runs back; the process exits by this deadline whatever happens.
   */
  shutdownGraceMs: number;
  /** How long opening a database connection may take before it fails (a partition, a dead host). */
  dbConnectTimeoutMs: number;
  /** API processes: the server cancels a statement running longer (`statement_timeout`). */
  statementTimeoutMs: number;
  /**
   * API processes: the client gives up on a query with no answer after this (a partition drops
   * packets and never resets the connection). Default: the statement timeout + 5 s, so a merely
   * slow statement is cancelled by the server first and its connection survives.
   */
  queryTimeoutMs: number;
  /** The server ends a session idle inside a transaction this long (it would hold its locks). */
  idleInTransactionTimeoutMs: number;
  /** Take the client address from X-Forwarded-For (only behind a proxy you run). */
  trustProxy: boolean;
  /** When set, `/metrics` wants `Authorization: Bearer <token>` (401 otherwise). */
  metricsToken: string | undefined;
  /** The port of a worker-only process's `/health`, `/ready` and `/metrics` (0 = any free port). */
  workerPort: number;
  /** How long a client may take to send a request's headers before its connection is closed. */
  httpHeadersTimeoutMs: number;
  /** How long a client may take to send a whole request (headers and body); responses, SSE included, are not limited. */
  httpRequestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  httpKeepAliveTimeoutMs: number;
  /** Held requests (run streams, NDJSON exports, `?waitMs=` waits) per organization on this instance. */
  maxHeldRequestsPerOrg: number;
  /** Held requests on this instance, every organization together. */
  maxHeldRequests: number;
  /** What the folded runs kept for reads may weigh together on this instance, in MiB of JSON (0: none kept). */
  runReadCacheMb: number;
  /** Audit verifications running at once on this instance. */
  maxAuditVerifications: number;
  /** A filtered `GET /api/audit/events` page reads at most this many of the organization's events (see `readAuditEvents`). */
  auditScanRows: number;
  /** The base URL clients reach this service at (webhook URLs); the request's own origin when unset. */
  publicUrl: string | undefined;
  /** Deliveries per minute each inbound webhook accepts (429 with Retry-After beyond). */
  webhookRateLimitPerMin: number;
  /** Ed25519 key (32-byte seed as hex/base64, or PKCS#8 PEM) that signs audit checkpoints; `<dataDir>/audit-signing.key` when unset. */
  auditSigningKey: string | undefined;
  /** The least time between two checkpoints of one organization while its events arrive. */
  auditCheckpointIntervalMs: number;
  /** Public keys (raw Ed25519, base64) of retired signing keys whose checkpoints verify still trusts. */
  auditTrustedKeys: string[];
  /** A module exporting the deployment's own connectors (`--connectors`), resolved from the working directory; the CLI loads it. */
  connectorsModule: string | undefined;
  /** Serve the MCP endpoint (`/mcp`) in API processes. */
  mcp: boolean;
};

/**
 * Whose runs a worker takes: every organization's (the default), only some (a tenant's dedicated
 * workers), or every one's but some (the shared pool, once those tenants have workers of their
 * own). A run no worker takes waits in the queue; nothing moves it to another worker.
 */
export type WorkerOrganizations = 'all' | { only: readonly string[] } | { except: readonly string[] };

/** `organizations` in words, for a worker's start-up line. */
export function describeWorkerOrganizations(organizations: WorkerOrganizations): string {
  if (organizations === 'all') return 'every organization';
  return 'only' in organizations ? `only ${organizations.only.join(', ')}` : `every organization but ${organizations.except.join(', ')}`;
}

/** Thrown when the environment cannot be parsed; `problems` lists every one. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset", the way shells and compose files usually pass them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.join('.');
        const shown = key === 'DATABASE_URL' || key === 'THODARE_READ_REPLICA_URL' || key === 'THODARE_SECRET_KEY' || key === 'THODARE_AUDIT_SIGNING_KEY' || key === 'THODARE_METRICS_TOKEN' ? '' : ` (got ${JSON.stringify(present[key])})`;
        return `${key}: ${issue.message}${shown}`;
      }),
    );
  }
  const c = result.data;
  if (c.THODARE_WORKER_ORGANIZATIONS && c.THODARE_WORKER_EXCLUDED_ORGANIZATIONS) {
    throw new ConfigError(['THODARE_WORKER_ORGANIZATIONS, THODARE_WORKER_EXCLUDED_ORGANIZATIONS: set one or the other (a worker takes only some organizations, or every one but some)']);
  }
  return {
    port: c.PORT,
    host: c.HOST,
    databaseUrl: c.DATABASE_URL,
    readReplicaUrl: c.THODARE_READ_REPLICA_URL,
    schema: c.THODARE_SCHEMA,
    dataDir: c.THODARE_DATA_DIR,
    embeddedPgPort: c.THODARE_EMBEDDED_PG_PORT,
    logLevel: c.THODARE_LOG_LEVEL,
    bodyLimit: c.THODARE_BODY_LIMIT,
    poolSize: c.THODARE_POOL_SIZE,
    pollIntervalMs: c.THODARE_POLL_INTERVAL_MS,
    signup: c.THODARE_SIGNUP,
    sessionTtlHours: c.THODARE_SESSION_TTL_HOURS,
    authCacheMs: c.THODARE_AUTH_CACHE_MS,
    rateLimitPerMin: c.THODARE_RATE_LIMIT_PER_MIN,
    authRateLimitPerMin: c.THODARE_AUTH_RATE_LIMIT_PER_MIN,
    secretKey: c.THODARE_SECRET_KEY,
    httpAllowHosts: c.THODARE_HTTP_ALLOW,
    templateEnv: c.THODARE_TEMPLATE_ENV,
    templateEnvValues: Object.fromEntries(c.THODARE_TEMPLATE_ENV.map((name) => [name, env[name]])),
    slackBaseUrl: c.THODARE_SLACK_BASE_URL,
    workerSlots: c.THODARE_WORKER_SLOTS,
    workerOrganizations: workerOrganizationsOf(c.THODARE_WORKER_ORGANIZATIONS, c.THODARE_WORKER_EXCLUDED_ORGANIZATIONS),
    workerProjections: c.THODARE_WORKER_PROJECTIONS === 'true',
    leaseMs: c.THODARE_LEASE_MS,
    shutdownGraceMs: c.THODARE_SHUTDOWN_GRACE_MS,
    dbConnectTimeoutMs: c.THODARE_DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: c.THODARE_STATEMENT_TIMEOUT_MS,
    queryTimeoutMs: c.THODARE_QUERY_TIMEOUT_MS ?? c.THODARE_STATEMENT_TIMEOUT_MS + 5_000,
    idleInTransactionTimeoutMs: c.THODARE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    trustProxy: c.THODARE_TRUST_PROXY === 'true',
    metricsToken: c.THODARE_METRICS_TOKEN,
    workerPort: c.THODARE_WORKER_PORT,
    httpHeadersTimeoutMs: c.THODARE_HTTP_HEADERS_TIMEOUT_MS,
    httpRequestTimeoutMs: c.THODARE_HTTP_REQUEST_TIMEOUT_MS,
    httpKeepAliveTimeoutMs: c.THODARE_HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxHeldRequestsPerOrg: c.THODARE_MAX_HELD_REQUESTS_PER_ORG,
    maxHeldRequests: c.THODARE_MAX_HELD_REQUESTS,
    runReadCacheMb: c.THODARE_RUN_READ_CACHE_MB,
    maxAuditVerifications: c.THODARE_MAX_AUDIT_VERIFICATIONS,
    auditScanRows: c.THODARE_AUDIT_SCAN_ROWS,
    publicUrl: c.THODARE_PUBLIC_URL?.replace(/\/+$/, ''),
    webhookRateLimitPerMin: c.THODARE_WEBHOOK_RATE_LIMIT_PER_MIN,
    auditSigningKey: c.THODARE_AUDIT_SIGNING_KEY,
    auditCheckpointIntervalMs: c.THODARE_AUDIT_CHECKPOINT_INTERVAL_MS,
    auditTrustedKeys: c.THODARE_AUDIT_TRUSTED_KEYS?.split(',').map((k) => k.trim()) ?? [],
    connectorsModule: c.THODARE_CONNECTORS,
    mcp: c.THODARE_MCP === 'on' || c.THODARE_MCP === 'true',
  };
}

function workerOrganizationsOf(only: string[] | undefined, except: string[] | undefined): WorkerOrganizations {
  if (only?.length) return { only: [...new Set(only)] };
  if (except?.length) return { except: [...new Set(except)] };
  return 'all';
}

/** The environment, with `overrides` (CLI flags, `startThodare` options as variables) taking precedence. */
export function loadConfig(overrides: Record<string, string | undefined> = {}): Config {
  const set = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return parseConfig({ ...process.env, ...set });
}
