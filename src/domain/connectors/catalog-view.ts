import { z } from 'zod';
import type { Connector, ConnectorKind, PolicyBounds, RetryPolicy } from './connector';
import type { ConnectorCatalog } from './connector-catalog';
import { VISIBILITY_KEY } from './visibility';

/** `GET /api/connectors?detail=summary` entry. */
export interface ConnectorSummary {
  type: string;
  name: string;
  description: string;
  category: string;
  kind: ConnectorKind;
}

type JsonSchema = Record<string, unknown>;

/** `GET /api/connectors/:type` and `?detail=full` entry. Hidden params appear nowhere in it. */
export interface ConnectorEntry extends ConnectorSummary {
  params: JsonSchema;
  outputs: JsonSchema;
  /** Organization secret names the hidden params are filled from (names only). */
  secrets: string[];
  /** Allowed `source_handle`s out of this block besides `error`, when it routes (e.g. condition). */
  sourceHandles?: string[];
  /** Triggers: the run input shape, when the connector declares one. */
  inputSchema?: JsonSchema;
  /** How failed attempts are retried (actions; the runtime executes waits and triggers). */
  retry?: Required<RetryPolicy>;
  /** Per-attempt timeout in ms, when the connector declares one. */
  timeoutMs?: number;
  /** How far a block's `retry` / `timeoutMs` may override them; absent ranges are fixed. */
  overridable?: PolicyBounds;
  /** A pure action (`ConnectorConfig.pure`): its steps ride in their neighbours' commits, so chaining them is free. */
  pure?: boolean;
}

/** The summary fields of a connector (what `?detail=summary` lists). */
export function connectorSummary(connector: Connector): ConnectorSummary {
  const { type, name, description, category, kind } = connector;
  return { type, name, description, category, kind };
}

const entries = new WeakMap<Connector, ConnectorEntry>();

/** The full catalog entry; computed once per connector. Callers must not mutate it. */
export function connectorEntry(connector: Connector): ConnectorEntry {
  const cached = entries.get(connector);
  if (cached) return cached;
  const entry: ConnectorEntry = {
    ...connectorSummary(connector),
    params: toJsonSchema(connector.agentParams, 'input'),
    outputs: toJsonSchema(connector.outputs, 'output'),
    secrets: [...new Set(Object.values(connector.secrets))].sort(),
  };
  if (connector.sourceHandles) entry.sourceHandles = [...connector.sourceHandles];
  if (connector.inputSchema) entry.inputSchema = toJsonSchema(connector.inputSchema, 'input');
  if (connector.kind === 'action') {
    entry.retry = { nonRetryableErrors: [], ...connector.retry };
    entry.overridable = connector.overridable;
  }
  if (connector.timeoutMs !== undefined) entry.timeoutMs = connector.timeoutMs;
  if (connector.pure) entry.pure = true;
  entries.set(connector, entry);
  return entry;
}

/** The whole catalog in registration order, at the requested detail (summary by default). */
export function catalogView(catalog: ConnectorCatalog, detail: 'full'): ConnectorEntry[];
export function catalogView(catalog: ConnectorCatalog, detail?: 'summary'): ConnectorSummary[];
export function catalogView(
  catalog: ConnectorCatalog,
  detail?: 'summary' | 'full',
): ConnectorSummary[] | ConnectorEntry[];
export function catalogView(
  catalog: ConnectorCatalog,
  detail: 'summary' | 'full' = 'summary',
): ConnectorSummary[] | ConnectorEntry[] {
  const connectors = catalog.list();
  return detail === 'full' ? connectors.map(connectorEntry) : connectors.map(connectorSummary);
}

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return stripHidden(json) as JsonSchema;
}

/** Removes any property marked hidden at any depth, and its name from `required`. */
function stripHidden(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripHidden);
  if (node === null || typeof node !== 'object') return node;
  const source = node as Record<string, unknown>;
  const hiddenKeys = new Set<string>();
  const properties = source.properties;
  if (properties && typeof properties === 'object') {
    for (const [key, value] of Object.entries(properties)) {
      if ((value as Record<string, unknown> | null)?.[VISIBILITY_KEY] === 'hidden')
        hiddenKeys.add(key);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === 'properties' && value && typeof value === 'object') {
      const kept = Object.entries(value).filter(([name]) => !hiddenKeys.has(name));
      out[key] = Object.fromEntries(kept.map(([name, schema]) => [name, stripHidden(schema)]));
    } else if (key === 'required' && Array.isArray(value)) {
      out[key] = value.filter((name) => !hiddenKeys.has(String(name)));
    } else {
      out[key] = stripHidden(value);
    }
  }
  return out;
}
