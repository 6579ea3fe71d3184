// Compiled by test/unit/authoring-types.spec.ts: every @ts-expect-error must stay an error.
import { z } from 'zod';
import { defineWorkflow } from '../../src/authoring/define-workflow';
import { defineWorkflowSpec, startSpecRun, type SpecFetcher } from '../../src/authoring/workflow-spec';
import { defineConnector } from '../../src/domain/connectors/define-connector';
import { hidden } from '../../src/domain/connectors/visibility';

const enrich = defineConnector({
  type: 'enrich_lead', name: 'Enrich', description: 'Enrich', category: 'test', kind: 'action',
  params: z.object({ email: z.string() }),
  outputs: z.object({ name: z.string(), score: z.number() }),
  run: async () => ({ name: 'Ada', score: 1 }),
});
const slack = defineConnector({
  type: 'slack_post', name: 'Slack', description: 'Slack', category: 'test', kind: 'action',
  params: z.object({ channel: z.string(), text: z.string(), token: hidden(z.string()) }),
  outputs: z.object({ ts: z.string() }),
  secrets: { token: 'SLACK_TOKEN' },
  run: async () => ({ ts: '1' }),
});
const base = defineWorkflow('types').input(z.object({ email: z.string() }));

// A hidden param is never written by an author; the others are checked.
base.step('enrich', enrich, ({ input }) => ({ email: input.email })).step('notify', slack, ({ enrich: e }) => ({ channel: '#a', text: e.name }));
// @ts-expect-error a required param is missing
base.step('enrich', enrich, () => ({}));

// @ts-expect-error wrong input field
base.step('enrich', enrich, ({ input }) => ({ email: input.mail }));

base
  .step('enrich', enrich, ({ input }) => ({ email: input.email }))
  // @ts-expect-error an output enrich_lead does not declare
  .step('notify', slack, ({ enrich: e }) => ({ channel: '#a', text: e.company }));

// @ts-expect-error a step declared later is not in refs
base.step('notify', slack, ({ enrich: e }) => ({ channel: '#a', text: e.name })).step('enrich', enrich, () => ({ email: 'x' }));

base
  .step('a', enrich, () => ({ email: 'a' }))
  .step('b', enrich, () => ({ email: 'b' }), { after: 'trigger' })
  // @ts-expect-error `a` is a sibling branch, not upstream of `c`
  .step('c', slack, ({ a }) => ({ channel: '#a', text: a.name }), { after: 'b' });

base
  .step('fetch', enrich, () => ({ email: 'a' }))
  // @ts-expect-error an error branch cannot read the outputs of the step that failed
  .onError('fetch', 'alert', slack, ({ fetch }) => ({ channel: '#ops', text: fetch.name }));

// @ts-expect-error `after` names an unknown step
base.step('a', enrich, () => ({ email: 'a' }), { after: 'nope' });

// @ts-expect-error a step id cannot be used twice
base.step('a', enrich, () => ({ email: 'a' })).step('a', enrich, () => ({ email: 'b' }));

const spec = defineWorkflowSpec({ name: 'lead', version: 1, input: z.object({ email: z.string() }), output: z.object({}) });
declare const fetcher: SpecFetcher;
void startSpecRun(fetcher, spec, 'wf', { email: 'a@example.com' });
// @ts-expect-error the input does not fit the spec
void startSpecRun(fetcher, spec, 'wf', { mail: 'a@example.com' });
