import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { packageVersion } from '../database/project-root';
import { registerCatalogTools } from './catalog.tools';
import { registerAuditTools, registerEventTools } from './events-audit.tools';
import type { McpCaller } from './rest-call';
import { registerRunTools } from './runs.tools';
import { failure } from './tool-result';
import { registerWorkflowTools } from './workflows.tools';

const INSTRUCTIONS = [
  'Thodare runs workflows of blocks (connectors) joined by connections.',
  'Build: connectors_list → connector_describe → workflow_create → workflow_patch (EditOps); a skipped op or a validation error carries a suggestion: send it as the next op.',
  'Run: run_start (wait_seconds) → run_wait → run_logs; after repairing what made a run fail, run_rerun (workflow_version current) starts it again from the failure. Results over about 60 KB are cut short with truncated: true; continue with after = next_cursor.',
  'Triggers: a trigger_schedule, trigger_webhook or trigger_event block makes runs start on their own; workflow_triggers shows the schedules and the webhook URL.',
  'Errors are results with isError and {error, message, hint}.',
].join(' ');

/** Toolsets, by name, and what they hold (18 tools). */
export const TOOLSETS = {
  catalog: ['connectors_list', 'connector_describe'],
  workflows: ['workflows_list', 'workflow_get', 'workflow_triggers', 'workflow_create', 'workflow_patch', 'workflow_revert'],
  runs: ['run_start', 'run_get', 'runs_list', 'run_wait', 'run_logs', 'run_cancel', 'run_rerun', 'signal_send'],
  events: ['event_publish'],
  audit: ['audit_events'],
} as const;

/** One MCP server per HTTP request (stateless), its tools calling REST as `caller`. */
export function buildMcpServer(caller: McpCaller): McpServer {
  const server = new McpServer({ name: 'thodare', version: packageVersion() }, { instructions: INSTRUCTIONS });
  const toolset = { server, caller };
  registerCatalogTools(toolset);
  registerWorkflowTools(toolset);
  registerRunTools(toolset);
  registerEventTools(toolset);
  registerAuditTools(toolset);
  // The SDK answers arguments that fail the input schema (and a handler that throws) with a bare
  // text result; give them our shape, `{error, message, hint}`, like every other failure.
  (server as unknown as { createToolError(message: string): CallToolResult }).createToolError = (message) =>
    message.includes('Input validation error') ? failure('invalid_arguments', message) : /Tool \S+ not found/.test(message) ? failure('unknown_tool', message) : failure('internal', message);
  return server;
}
