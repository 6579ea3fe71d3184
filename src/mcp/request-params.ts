import { CallToolRequestSchema, ErrorCode, InitializeRequestSchema, ListToolsRequestSchema, PingRequestSchema } from '@modelcontextprotocol/sdk/types.js';

/** The requests this server answers, by method, each with the SDK's own schema of it. */
const REQUESTS = new Map<string, { safeParse(value: unknown): { success: true } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } } }>(
  [InitializeRequestSchema, PingRequestSchema, ListToolsRequestSchema, CallToolRequestSchema].map((schema) => [schema.shape.method.value, schema]),
);

export interface JsonRpcError {
  jsonrpc: '2.0';
  id: string | number;
  error: { code: number; message: string };
}

/**
 * The answer to one JSON-RPC request whose params do not fit its method's schema: -32602 Invalid
 * params, naming each field that does not fit. Undefined for anything else, which the SDK
 * answers. The SDK parses a request in its handler and answered such a failure as -32603
 * Internal error, with zod's issues as a JSON dump: an agent read a fault of the server where its
 * own request was wrong (`tools/call` without `params`, or with a number for its `name`).
 */
export function invalidParamsAnswer(body: unknown): JsonRpcError | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { id, method } = body as { id?: unknown; method?: unknown };
  if ((typeof id !== 'string' && typeof id !== 'number') || typeof method !== 'string') return undefined;
  const parsed = REQUESTS.get(method)?.safeParse(body);
  if (!parsed || parsed.success) return undefined;
  const fields = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || 'request'}: ${issue.message}`);
  return { jsonrpc: '2.0', id, error: { code: ErrorCode.InvalidParams, message: `invalid params for ${method}: ${fields.join('; ')}` } };
}
