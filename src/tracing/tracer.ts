import type * as OpenTelemetry from '@opentelemetry/api';

/** The parts of `@opentelemetry/api` that tracing uses. */
export type OpenTelemetryApi = Pick<typeof OpenTelemetry, 'trace' | 'context' | 'SpanKind' | 'SpanStatusCode'>;

/** Loads a module by name (`require`, or a stand-in in tests). */
export type ModuleLoader = (id: string) => unknown;

// The API is an optional peer dependency: it is only ever loaded here, lazily, and its absence
// turns tracing off. A static import would make every install need it.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
const nodeRequire: ModuleLoader = (id) => require(id);

/**
 * `@opentelemetry/api` when it is installed (and loads), else undefined: tracing is then a no-op.
 * With the API installed but no SDK registered, the API itself records nothing.
 */
export function loadOpenTelemetry(load: ModuleLoader = nodeRequire): OpenTelemetryApi | undefined {
  try {
    const api = load('@opentelemetry/api') as Partial<OpenTelemetryApi> | undefined;
    return api?.trace && api.context && api.SpanKind && api.SpanStatusCode ? (api as OpenTelemetryApi) : undefined;
  } catch {
    return undefined;
  }
}
