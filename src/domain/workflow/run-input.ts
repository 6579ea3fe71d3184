import { z } from 'zod';
import type { ConnectorCatalog } from '../connectors/connector-catalog';
import type { SerializedWorkflow } from './workflow';

/** A problem with a run's input, at a dotted path (`''` for the whole input). */
export interface RunInputIssue {
  path: string;
  message: string;
}

/** Result of `validateRunInput`. */
export type RunInputCheck = { ok: true } | { ok: false; issues: RunInputIssue[] };

const MAX_SCHEMA_CHARS = 64 * 1024;
/** Keywords refused in agent-written schemas: regexes chosen by one party, run on another's input (ReDoS). */
const REFUSED_KEYWORDS = ['pattern', 'patternProperties'];

type CompiledInputSchema = { schema: z.ZodType } | { error: string };

/**
 * Each `inputSchema` object compiled once: a pinned workflow's params are never mutated, and one
 * object serves every start of it (the start command keeps the workflow). Compiling it, and zod's
 * first parse with it, took ~0.3 ms of every start of such a workflow; a parse alone, ~3 µs.
 */
const compiled = new WeakMap<object, CompiledInputSchema>();

/**
 * Compiles a trigger's `inputSchema` param (JSON Schema, draft 2020-12) with zod's
 * `z.fromJSONSchema`. Refuses schemas over 64 KiB and regex keywords.
 */
export function compileInputSchema(json: unknown): CompiledInputSchema {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    return { error: 'inputSchema must be a JSON Schema object' };
  let result = compiled.get(json);
  if (!result) {
    result = compile(json);
    compiled.set(json, result);
  }
  return result;
}

function compile(json: object): CompiledInputSchema {
  const text = JSON.stringify(json);
  if (text.length > MAX_SCHEMA_CHARS)
    return { error: `inputSchema is larger than ${MAX_SCHEMA_CHARS} characters` };
  const refused = REFUSED_KEYWORDS.find((keyword) => text.includes(`"${keyword}"`));
  if (refused) return { error: `inputSchema keyword "${refused}" is not supported` };
  try {
    return {
      schema: z.fromJSONSchema(json as Parameters<typeof z.fromJSONSchema>[0]) as z.ZodType,
    };
  } catch (error) {
    return {
      error: `inputSchema is not a usable JSON Schema: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/**
 * Checks a run input against the workflow's trigger: the connector's `inputSchema` (zod) when it
 * declares one, then the block's `inputSchema` param (JSON Schema) when set. No trigger, or a
 * trigger without a schema, accepts any input.
 */
export function validateRunInput(
  workflow: SerializedWorkflow,
  input: unknown,
  catalog: ConnectorCatalog,
): RunInputCheck {
  const trigger = workflow.blocks.find(
    (block) => block.enabled && catalog.get(block.type)?.kind === 'trigger',
  );
  if (!trigger) return { ok: true };
  const schemas: z.ZodType[] = [];
  const declared = catalog.get(trigger.type)?.inputSchema;
  if (declared) schemas.push(declared);
  if (trigger.params.inputSchema !== undefined) {
    const compiled = compileInputSchema(trigger.params.inputSchema);
    if ('error' in compiled)
      return {
        ok: false,
        issues: [
          {
            path: '',
            message: `The trigger "${trigger.id}" has an unusable input schema: ${compiled.error}`,
          },
        ],
      };
    schemas.push(compiled.schema);
  }
  const issues: RunInputIssue[] = [];
  for (const schema of schemas) {
    const result = schema.safeParse(input);
    if (!result.success)
      issues.push(
        ...result.error.issues.map((issue) => ({
          path: issue.path.join('.'),
          message: issue.message,
        })),
      );
  }
  return issues.length === 0 ? { ok: true } : { ok: false, issues };
}
