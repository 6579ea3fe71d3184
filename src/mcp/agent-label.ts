import type { IncomingHttpHeaders } from 'node:http';

/**
 * The agent label of MCP writes: the MCP client's `clientInfo` (`name/version`).
 *
 * The endpoint is stateless, and a client sends `clientInfo` only in its `initialize` request.
 * So the answer to `initialize` carries an `Mcp-Session-Id` that encodes the label
 * (`agent.<base64url>`); MCP clients send that id back on every later request, and the label is
 * read from it. No state is kept on the server, so any API instance serves any request. An
 * explicit `X-Thodare-Agent` header wins over both, as on REST. Like that header, the label is
 * the client's own claim, not a credential.
 */
const PREFIX = 'agent.';
const FALLBACK = 'mcp';

interface JsonRpcMessage {
  method?: unknown;
  params?: { clientInfo?: { name?: unknown; version?: unknown } };
}

export function agentOf(headers: IncomingHttpHeaders, body: unknown): string {
  const explicit = first(headers['x-thodare-agent']);
  if (explicit) return explicit;
  const init = initializeOf(body);
  if (init) return labelOf(init);
  const session = first(headers['mcp-session-id']);
  if (session?.startsWith(PREFIX)) return Buffer.from(session.slice(PREFIX.length), 'base64url').toString('utf8') || FALLBACK;
  return FALLBACK;
}

/** The `initialize` request of this body (a message or a batch), if any. */
export function initializeOf(body: unknown): JsonRpcMessage | undefined {
  const messages = (Array.isArray(body) ? body : [body]) as JsonRpcMessage[];
  return messages.find((message) => message && typeof message === 'object' && message.method === 'initialize');
}

/** The session id that hands the label back to this endpoint on the client's next requests. */
export function sessionIdFor(agent: string): string {
  return PREFIX + Buffer.from(agent, 'utf8').toString('base64url');
}

function labelOf(init: JsonRpcMessage): string {
  const info = init.params?.clientInfo;
  const name = typeof info?.name === 'string' ? info.name : '';
  const version = typeof info?.version === 'string' ? info.version : '';
  return name ? (version ? `${name}/${version}` : name) : FALLBACK;
}

function first(value: string | string[] | undefined): string | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  return text ? text : undefined;
}
