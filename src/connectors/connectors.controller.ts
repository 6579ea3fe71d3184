import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { z } from 'zod';
import { catalogView, connectorEntry } from '../domain/connectors/catalog-view';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import { NotFound } from '../errors';
import { ApiRoute } from '../http/api-route.decorator';
import { RequireRole } from '../http/require-role.decorator';
import { CONNECTOR_CATALOG } from './catalog.token';

const summaryFields = {
  type: z.string(),
  name: z.string(),
  description: z.string(),
  category: z.string(),
  kind: z.enum(['trigger', 'action', 'wait']),
};
const summary = z.object(summaryFields).meta({ id: 'ConnectorSummary', description: 'A catalog entry, summary form.' });
const range = z.object({ min: z.number(), max: z.number() });
const entry = z.object({
  ...summaryFields,
  params: z.record(z.string(), z.unknown()).describe('JSON Schema of the params an agent may set (hidden params absent)'),
  outputs: z.record(z.string(), z.unknown()).describe('JSON Schema of the declared outputs'),
  secrets: z.array(z.string()).describe('Organization secret names the hidden params are filled from'),
  sourceHandles: z.array(z.string()).optional(),
  inputSchema: z.record(z.string(), z.unknown()).optional(),
  retry: z
    .object({
      maxAttempts: z.number().int().describe('Total attempts, the first included'),
      initialIntervalMs: z.number(),
      backoffCoefficient: z.number(),
      maxIntervalMs: z.number(),
      nonRetryableErrors: z.array(z.string()).describe('Error codes that fail the step at once'),
    })
    .optional()
    .describe('Retry policy of the step (actions)'),
  timeoutMs: z.number().optional().describe('Per-attempt timeout in milliseconds'),
  overridable: z
    .object({
      retry: z.object({ maxAttempts: range.optional(), intervalMs: range.optional() }).optional(),
      timeoutMs: range.optional(),
    })
    .optional()
    .describe("Bounds of a block's retry / timeoutMs overrides; an absent range cannot be overridden"),
  pure: z
    .boolean()
    .optional()
    .describe('A pure action (a function of its params: no I/O): its steps are recorded with the steps around them, not in a commit of their own'),
}).meta({ id: 'Connector', description: 'A catalog entry, full form: params and outputs as JSON Schema, retry and timeout policy.' });
const listQuery = z.object({ detail: z.enum(['summary', 'full']).default('summary') });

/** The catalog agents read before drafting a workflow. Read-only, any role. */
@Controller('api/connectors')
export class ConnectorsController {
  constructor(@Inject(CONNECTOR_CATALOG) private readonly catalog: ConnectorCatalog) {}

  @Get()
  @RequireRole('viewer')
  @ApiRoute({
    summary: 'List connectors (summary, or full with params/outputs as JSON Schema); the whole catalog, so `next` is always null',
    tags: ['connectors'],
    query: listQuery,
    responses: { 200: z.object({ data: z.array(z.union([entry, summary])), next: z.null() }) },
  })
  list(@Query() query: z.infer<typeof listQuery>): { data: unknown[]; next: null } {
    return { data: catalogView(this.catalog, query.detail), next: null };
  }

  @Get(':type')
  @RequireRole('viewer')
  @ApiRoute({ summary: 'One connector, full entry', tags: ['connectors'], responses: { 200: entry } })
  get(@Param('type') type: string): unknown {
    const connector = this.catalog.get(type);
    if (!connector) throw new NotFound(`connector type "${type.slice(0, 100)}"`);
    return connectorEntry(connector);
  }
}
