import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { McpCaller } from './rest-call';
import { failure } from './tool-result';

/** What a toolset registers its tools with. */
export interface Toolset {
  server: McpServer;
  caller: McpCaller;
}

/** Reads: no side effect, safe to repeat. */
export const READ: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
/** A write that adds (a workflow, a run, a signal, an event) and removes nothing. */
export const ADD: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };

/** `encodeURIComponent` for path segments. */
export const seg = (id: string) => encodeURIComponent(id);

/** Output of list tools: a page, its REST cursor, and whether the cap cut it short. */
export const pageOutput = z.looseObject({
  data: z.array(z.unknown()),
  next: z.string().nullable().describe('the REST cursor of the next page (null on the last)'),
  next_cursor: z.string().nullable().describe('pass as `after` to continue after the last item shown'),
  truncated: z.boolean().describe('true when the result cap (about 60 KB) cut the page short, or clipped long values'),
});

/** Any JSON object (a REST answer); `truncated` when long values were clipped to fit the cap. */
export const objectOutput = (shape: Record<string, z.ZodType>) => z.looseObject({ ...shape, truncated: z.boolean().optional() });

export const cursorInput = {
  after: z.string().min(1).max(500).optional().describe('`next_cursor` of the previous call'),
};

/** Runs a write tool unless the connection is read-only (403 forbidden, as REST answers a viewer). */
export function write<A>(caller: McpCaller, handler: (args: A) => Promise<CallToolResult>): (args: A) => Promise<CallToolResult> {
  return (args) => (caller.readOnly ? Promise.resolve(failure('forbidden', 'this MCP connection is read-only (?readonly=1, or a viewer credential): write tools are refused')) : handler(args));
}
