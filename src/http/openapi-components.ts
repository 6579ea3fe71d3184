import { isDeepStrictEqual } from 'node:util';
import { z, type ZodType } from 'zod';

export type JsonObject = Record<string, unknown>;
type Io = 'input' | 'output';

const DEFS = '#/$defs/';
const COMPONENTS = '#/components/schemas/';

/**
 * Converts zod schemas to JSON Schema (zod v4) and collects their named parts — every schema
 * registered with `.meta({ id })` — as `components.schemas`, so `/openapi.json` says
 * `$ref: '#/components/schemas/Workflow'` where a client wants a `Workflow` type. A named
 * schema whose request form (`io: 'input'`: defaults optional, extra keys allowed) differs
 * from its response form gets a second component, `<id>Input`.
 */
export class SchemaComponents {
  private readonly defs: Record<Io, Map<string, JsonObject>> = { input: new Map(), output: new Map() };
  /** Every converted node whose `#/$defs/…` refs still need pointing at a component. */
  private readonly pending: { node: JsonObject; io: Io }[] = [];

  convert(schema: ZodType, io: Io): JsonObject {
    let json: JsonObject;
    try {
      json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonObject;
    } catch {
      return {};
    }
    const { $schema: _draft, $defs, ...root } = json;
    for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, JsonObject>)) {
      if (this.defs[io].has(id)) continue;
      this.defs[io].set(id, def);
      this.pending.push({ node: def, io });
    }
    this.pending.push({ node: root, io });
    return root;
  }

  /** The components, sorted by name; rewrites the refs of everything converted so far. */
  finish(extra: Record<string, JsonObject> = {}): Record<string, JsonObject> {
    const inputNames = new Map<string, string>();
    const schemas: Record<string, JsonObject> = { ...extra };
    for (const [id, def] of this.defs.output) schemas[id] = def;
    for (const [id, def] of this.defs.input) {
      const output = this.defs.output.get(id);
      const name = output === undefined || isDeepStrictEqual(output, def) ? id : `${id}Input`;
      inputNames.set(id, name);
      schemas[name] ??= def;
    }
    for (const { node, io } of this.pending) rewriteRefs(node, (id) => (io === 'input' ? (inputNames.get(id) ?? id) : id));
    return Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
  }
}

function rewriteRefs(node: unknown, name: (id: string) => string): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteRefs(item, name);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const object = node as JsonObject;
  for (const [key, value] of Object.entries(object)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(DEFS)) {
      object.$ref = `${COMPONENTS}${name(decodeURIComponent(value.slice(DEFS.length)))}`;
    } else {
      rewriteRefs(value, name);
    }
  }
}
