import { z } from 'zod';
import { defineConnector } from '../define-connector';

/**
 * `transform`: the runtime resolves `template` (any JSON with `{{…}}` references) before the
 * step, so the step only hands the resolved value on as `{value}`. A template that is exactly one
 * reference keeps the referenced value's type.
 */
export const transform = defineConnector({
  type: 'transform',
  name: 'Transform',
  description:
    'Builds a value from a template: any JSON whose strings may contain {{references}}. Output: {value}.',
  category: 'data',
  kind: 'action',
  pure: true,
  aliases: ['map', 'set', 'compose', 'template'],
  params: z.object({
    template: z
      .unknown()
      .refine((value) => value !== undefined, { message: 'template is required' })
      .describe('Any JSON value; strings may contain {{references}}'),
  }),
  outputs: z.object({ value: z.unknown() }),
  retry: { maxAttempts: 1, initialIntervalMs: 0, backoffCoefficient: 1, maxIntervalMs: 0 },
  run: async ({ template }) => ({ value: template }),
});
