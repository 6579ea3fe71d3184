import { z } from 'zod';
import { defineConnector } from '../define-connector';
import { COMPARE_OPERATORS, compareValues } from './compare-values';

/**
 * `condition`: compares `left` with `right` and routes the run: edges out of it carry
 * `sourceHandle` `true` or `false`, and only the branch matching `result` runs.
 */
export const condition = defineConnector({
  type: 'condition',
  name: 'Condition',
  description:
    'Compares left and right (eq, ne, gt, gte, lt, lte, contains, exists) and continues on the edge whose source_handle is "true" or "false". Output: {result}.',
  category: 'logic',
  kind: 'action',
  pure: true,
  aliases: ['if', 'branch', 'switch', 'compare', 'filter'],
  sourceHandles: ['true', 'false'],
  params: z.object({
    left: z.unknown().describe('Value to test, usually a {{reference}}'),
    operator: z.enum(COMPARE_OPERATORS),
    right: z.unknown().optional().describe('Value to compare with (unused by exists)'),
  }),
  outputs: z.object({ result: z.boolean() }),
  retry: { maxAttempts: 1, initialIntervalMs: 0, backoffCoefficient: 1, maxIntervalMs: 0 },
  run: async ({ left, operator, right }) => ({ result: compareValues(left, operator, right) }),
});
