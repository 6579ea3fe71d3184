import { z } from 'zod';
import { fromAnswer, restFailure, success } from './tool-result';
import { objectOutput, READ, seg, type Toolset } from './toolset';

/** The `catalog` toolset: the connector catalog, summary first, the full schema of one on request. */
export function registerCatalogTools({ server, caller }: Toolset): void {
  server.registerTool(
    'connectors_list',
    {
      title: 'List connectors',
      description: 'The connector catalog in summary form (type, name, description, category, kind). Call connector_describe for the params and outputs of one.',
      inputSchema: { kind: z.enum(['trigger', 'action', 'wait']).optional().describe('only connectors of this kind') },
      outputSchema: objectOutput({ data: z.array(z.looseObject({ type: z.string(), name: z.string(), kind: z.string() })) }),
      annotations: READ,
    },
    async ({ kind }) => {
      const answer = await caller.call('GET', '/api/connectors', { query: { detail: 'summary' } });
      if (answer.status >= 400) return restFailure(answer);
      const data = (answer.body as { data: { kind: string }[] }).data.filter((entry) => !kind || entry.kind === kind);
      return success({ data });
    },
  );
  server.registerTool(
    'connector_describe',
    {
      title: 'Describe a connector',
      description: 'One connector in full: params and outputs as JSON Schema, the secrets it reads, retry and timeout policy with their overridable bounds.',
      inputSchema: { type: z.string().min(1).max(200).describe('the connector type, e.g. "transform"') },
      outputSchema: objectOutput({ type: z.string(), params: z.unknown(), outputs: z.unknown() }),
      annotations: READ,
    },
    async ({ type }) => fromAnswer(await caller.call('GET', `/api/connectors/${seg(type)}`)),
  );
}
