import { z } from 'zod';
import { createConnectorCatalog, type ConnectorCatalog } from '../connectors/connector-catalog';
import { defineConnector } from '../connectors/define-connector';
import { pureBuiltinConnectors } from '../connectors/builtins/pure-builtins';
import { hidden, userOnly } from '../connectors/visibility';
import type { Principal } from './apply-result';
import {
  emptyWorkflow,
  type SerializedWorkflow,
  type WorkflowBlock,
  type WorkflowConnection,
} from './workflow';

/**
 * Builders for tests of the workflow domain (kept beside it: the domain owns its fixtures).
 * `send_email` has a hidden `apiKey` bound to secret EMAIL_API_KEY and a user-only `fromAddress`;
 * `fetch_user` has nested outputs for whole-path reference checks.
 */
export const sendEmail = defineConnector({
  type: 'send_email',
  name: 'Send email',
  description: 'Sends an email.',
  category: 'messaging',
  kind: 'action',
  params: z.object({
    to: z.email(),
    subject: z.string().min(1).max(200),
    priority: z.enum(['low', 'normal', 'high']).default('normal'),
    retries: z.number().int().min(0).max(5).optional(),
    fromAddress: userOnly(z.string().optional()),
    apiKey: hidden(z.string()),
  }),
  outputs: z.object({ messageId: z.string(), accepted: z.boolean() }),
  secrets: { apiKey: 'EMAIL_API_KEY' },
  run: async () => ({ messageId: 'm-1', accepted: true }),
});

/** A connector with nested outputs (`user.emails[].address`). */
export const fetchUser = defineConnector({
  type: 'fetch_user',
  name: 'Fetch user',
  description: 'Looks a user up.',
  category: 'data',
  kind: 'action',
  params: z.object({ userId: z.string() }),
  outputs: z.object({
    user: z.object({
      name: z.string(),
      emails: z.array(z.object({ address: z.string(), primary: z.boolean() })),
    }),
    total: z.number(),
  }),
  run: async () => ({ user: { name: 'Ada', emails: [] }, total: 1 }),
});

/** Pure builtins plus `send_email` and `fetch_user`. */
export function testCatalog(): ConnectorCatalog {
  return createConnectorCatalog([...pureBuiltinConnectors(), sendEmail, fetchUser]);
}

/** Principals. */
export const asUser: Principal = { kind: 'user' };
export const asApiKey: Principal = { kind: 'api_key' };

/** A block with params, enabled by default. */
export function block(
  id: string,
  type: string,
  params: Record<string, unknown> = {},
  enabled = true,
): WorkflowBlock {
  return { id, type, params, enabled };
}

/** A workflow from blocks, `[source, target, handle?]` edges and variables. */
export function workflowOf(
  blocks: WorkflowBlock[],
  connections: [string, string, string?][] = [],
  variables: Record<string, unknown> = {},
): SerializedWorkflow {
  const edges: WorkflowConnection[] = connections.map(([source, target, sourceHandle]) =>
    sourceHandle ? { source, target, sourceHandle } : { source, target },
  );
  return { ...emptyWorkflow('test'), variables, blocks, connections: edges };
}

/** Wire-format EditOps, as an agent sends them. */
export const op = {
  add: (block_id: string, type: string, params?: Record<string, unknown>) => ({
    operation_type: 'add',
    block_id,
    type,
    ...(params ? { params } : {}),
  }),
  update: (block_id: string, params: Record<string, unknown>) => ({
    operation_type: 'update',
    block_id,
    params,
  }),
  remove: (block_id: string) => ({ operation_type: 'remove', block_id }),
  connect: (block_id: string, target_block_id: string, source_handle?: string) => ({
    operation_type: 'connect',
    block_id,
    target_block_id,
    ...(source_handle ? { source_handle } : {}),
  }),
  disconnect: (block_id: string, target_block_id: string, source_handle?: string) => ({
    operation_type: 'disconnect',
    block_id,
    target_block_id,
    ...(source_handle ? { source_handle } : {}),
  }),
};
