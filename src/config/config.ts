import { z } from 'zod';

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

const configSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: databaseUrl.optional(),
  THODARE_SCHEMA: schemaName.default('thodare'),
  THODARE_DATA_DIR: z.string().min(1).default('.thodare'),
  THODARE_EMBEDDED_PG_PORT: port.optional(),
  THODARE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  THODARE_BODY_LIMIT: positiveInt.default(1024 * 1024),
  THODARE_POOL_SIZE: positiveInt.default(10),
  THODARE_POLL_INTERVAL_MS: positiveInt.default(1000),
});

export type Config = {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  schema: string;
  dataDir: string;
  embeddedPgPort: number | undefined;
  logLevel: z.infer<typeof configSchema>['THODARE_LOG_LEVEL'];
  bodyLimit: number;
  poolSize: number;
  pollIntervalMs: number;
};

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
        const shown = key === 'DATABASE_URL' ? '' : ` (got ${JSON.stringify(present[key])})`;
        return `${key}: ${issue.message}${shown}`;
      }),
    );
  }
  const c = result.data;
  return {
    port: c.PORT,
    host: c.HOST,
    databaseUrl: c.DATABASE_URL,
    schema: c.THODARE_SCHEMA,
    dataDir: c.THODARE_DATA_DIR,
    embeddedPgPort: c.THODARE_EMBEDDED_PG_PORT,
    logLevel: c.THODARE_LOG_LEVEL,
    bodyLimit: c.THODARE_BODY_LIMIT,
    poolSize: c.THODARE_POOL_SIZE,
    pollIntervalMs: c.THODARE_POLL_INTERVAL_MS,
  };
}

export function loadConfig(): Config {
  return parseConfig(process.env);
}
