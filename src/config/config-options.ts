import { ConfigError } from './config';

/**
 * Every setting of the environment, as a `startThodare` option. Units and defaults are those of
 * the variable named beside each (README, Configuration).
 */
export interface ThodareSettings {
  /** PORT (default 3000; 0 = any free port). */
  port?: number;
  /** HOST (default 0.0.0.0). */
  host?: string;
  /** DATABASE_URL; omitted: the embedded Postgres in `<dataDir>/pg`. */
  databaseUrl?: string;
  /** THODARE_SCHEMA (default thodare). */
  schema?: string;
  /** THODARE_DATA_DIR (default .thodare). */
  dataDir?: string;
  embeddedPgPort?: number;
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  bodyLimit?: number;
  poolSize?: number;
  pollIntervalMs?: number;
  signup?: 'open' | 'invite' | 'closed';
  sessionTtlHours?: number;
  authCacheMs?: number;
  rateLimitPerMin?: number;
  authRateLimitPerMin?: number;
  secretKey?: string;
  /** THODARE_HTTP_ALLOW. */
  httpAllowHosts?: readonly string[];
  templateEnv?: readonly string[];
  slackBaseUrl?: string;
  workerSlots?: number;
  /** THODARE_WORKER_ORGANIZATIONS: the only organizations whose runs this worker takes. */
  workerOrganizations?: readonly string[];
  /** THODARE_WORKER_EXCLUDED_ORGANIZATIONS: organizations whose runs this worker leaves to their own workers. */
  workerExcludedOrganizations?: readonly string[];
  /** THODARE_WORKER_PROJECTIONS: `false` leaves the async read models to a `projector` (role or `thodare projector`) elsewhere. */
  workerProjections?: boolean;
  leaseMs?: number;
  shutdownGraceMs?: number;
  dbConnectTimeoutMs?: number;
  statementTimeoutMs?: number;
  queryTimeoutMs?: number;
  idleInTransactionTimeoutMs?: number;
  trustProxy?: boolean;
  metricsToken?: string;
  workerPort?: number;
  httpHeadersTimeoutMs?: number;
  httpRequestTimeoutMs?: number;
  httpKeepAliveTimeoutMs?: number;
  maxHeldRequestsPerOrg?: number;
  maxHeldRequests?: number;
  runReadCacheMb?: number;
  maxAuditVerifications?: number;
  auditScanRows?: number;
  publicUrl?: string;
  webhookRateLimitPerMin?: number;
  auditSigningKey?: string;
  auditCheckpointIntervalMs?: number;
  auditTrustedKeys?: readonly string[];
  /** THODARE_MCP (default on): serve `/mcp`. */
  mcp?: boolean;
}

/** Option → the variable it stands for; `satisfies` keeps the table complete. */
const VARIABLES = {
  port: 'PORT',
  host: 'HOST',
  databaseUrl: 'DATABASE_URL',
  schema: 'THODARE_SCHEMA',
  dataDir: 'THODARE_DATA_DIR',
  embeddedPgPort: 'THODARE_EMBEDDED_PG_PORT',
  logLevel: 'THODARE_LOG_LEVEL',
  bodyLimit: 'THODARE_BODY_LIMIT',
  poolSize: 'THODARE_POOL_SIZE',
  pollIntervalMs: 'THODARE_POLL_INTERVAL_MS',
  signup: 'THODARE_SIGNUP',
  sessionTtlHours: 'THODARE_SESSION_TTL_HOURS',
  authCacheMs: 'THODARE_AUTH_CACHE_MS',
  rateLimitPerMin: 'THODARE_RATE_LIMIT_PER_MIN',
  authRateLimitPerMin: 'THODARE_AUTH_RATE_LIMIT_PER_MIN',
  secretKey: 'THODARE_SECRET_KEY',
  httpAllowHosts: 'THODARE_HTTP_ALLOW',
  templateEnv: 'THODARE_TEMPLATE_ENV',
  slackBaseUrl: 'THODARE_SLACK_BASE_URL',
  workerSlots: 'THODARE_WORKER_SLOTS',
  workerOrganizations: 'THODARE_WORKER_ORGANIZATIONS',
  workerExcludedOrganizations: 'THODARE_WORKER_EXCLUDED_ORGANIZATIONS',
  workerProjections: 'THODARE_WORKER_PROJECTIONS',
  leaseMs: 'THODARE_LEASE_MS',
  shutdownGraceMs: 'THODARE_SHUTDOWN_GRACE_MS',
  dbConnectTimeoutMs: 'THODARE_DB_CONNECT_TIMEOUT_MS',
  statementTimeoutMs: 'THODARE_STATEMENT_TIMEOUT_MS',
  queryTimeoutMs: 'THODARE_QUERY_TIMEOUT_MS',
  idleInTransactionTimeoutMs: 'THODARE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
  trustProxy: 'THODARE_TRUST_PROXY',
  metricsToken: 'THODARE_METRICS_TOKEN',
  workerPort: 'THODARE_WORKER_PORT',
  httpHeadersTimeoutMs: 'THODARE_HTTP_HEADERS_TIMEOUT_MS',
  httpRequestTimeoutMs: 'THODARE_HTTP_REQUEST_TIMEOUT_MS',
  httpKeepAliveTimeoutMs: 'THODARE_HTTP_KEEP_ALIVE_TIMEOUT_MS',
  maxHeldRequestsPerOrg: 'THODARE_MAX_HELD_REQUESTS_PER_ORG',
  maxHeldRequests: 'THODARE_MAX_HELD_REQUESTS',
  runReadCacheMb: 'THODARE_RUN_READ_CACHE_MB',
  maxAuditVerifications: 'THODARE_MAX_AUDIT_VERIFICATIONS',
  auditScanRows: 'THODARE_AUDIT_SCAN_ROWS',
  publicUrl: 'THODARE_PUBLIC_URL',
  webhookRateLimitPerMin: 'THODARE_WEBHOOK_RATE_LIMIT_PER_MIN',
  auditSigningKey: 'THODARE_AUDIT_SIGNING_KEY',
  auditCheckpointIntervalMs: 'THODARE_AUDIT_CHECKPOINT_INTERVAL_MS',
  auditTrustedKeys: 'THODARE_AUDIT_TRUSTED_KEYS',
  mcp: 'THODARE_MCP',
} as const satisfies Record<keyof ThodareSettings, string>;

/**
 * The settings as the variables they stand for, so the one config parser validates options and
 * environment alike. An unknown key (a typo, from JavaScript) is a `ConfigError`, not ignored.
 */
export function settingsAsVariables(settings: Record<string, unknown>): Record<string, string | undefined> {
  const variables: Record<string, string | undefined> = {};
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(settings)) {
    const variable = (VARIABLES as Record<string, string>)[key];
    if (!variable) unknown.push(`${key}: not a Thodare option`);
    else if (value !== undefined) variables[variable] = Array.isArray(value) ? value.join(',') : String(value);
  }
  if (unknown.length > 0) throw new ConfigError(unknown);
  return variables;
}

/** `ConfigError` problems name variables; an embedder wrote options, so name both. */
export function withOptionNames(error: ConfigError): ConfigError {
  const byVariable = new Map<string, string>(Object.entries(VARIABLES).map(([option, variable]) => [variable, option]));
  return new ConfigError(
    error.problems.map((problem) => {
      const variable = problem.slice(0, problem.indexOf(':'));
      const option = byVariable.get(variable);
      return option ? `${option} (${variable})${problem.slice(variable.length)}` : problem;
    }),
  );
}
