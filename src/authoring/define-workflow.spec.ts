import { z } from 'zod';
import { waitForEvent } from '../domain/connectors/builtins/wait.connectors';
import { createConnectorCatalog } from '../domain/connectors/connector-catalog';
import { pureBuiltinConnectors } from '../domain/connectors/builtins/pure-builtins';
import { defineConnector } from '../domain/connectors/define-connector';
import { hidden } from '../domain/connectors/visibility';
import { apply } from '../domain/workflow/apply-ops';
import { emptyWorkflow } from '../domain/workflow/workflow';
import { defineWorkflow } from './define-workflow';
import { toEditOps } from './to-edit-ops';

const enrich = defineConnector({
  type: 'enrich_lead',
  name: 'Enrich lead',
  description: 'Looks a lead up.',
  category: 'test',
  kind: 'action',
  params: z.object({ email: z.string() }),
  outputs: z.object({ name: z.string(), company: z.string(), score: z.number(), tags: z.array(z.string()) }),
  run: async () => ({ name: 'Ada', company: 'Acme', score: 87, tags: [] }),
});
const slack = defineConnector({
  type: 'slack_post',
  name: 'Slack',
  description: 'Posts.',
  category: 'test',
  kind: 'action',
  params: z.object({ channel: z.string(), text: z.string(), accessToken: hidden(z.string()) }),
  outputs: z.object({ ok: z.boolean(), ts: z.string() }),
  secrets: { accessToken: 'SLACK_TOKEN' },
  run: async () => ({ ok: true, ts: '1' }),
});
const catalog = createConnectorCatalog([...pureBuiltinConnectors(), enrich, slack]);

const leadNotifier = () =>
  defineWorkflow('lead-notifier', { description: 'Tells sales about hot leads' })
    .input(z.object({ email: z.string().email(), channel: z.string().default('#sales') }))
    .step('enrich', enrich, ({ input }) => ({ email: input.email }), { retry: { maxAttempts: 1 }, timeoutMs: 5_000 })
    .when('hot', ({ enrich }) => ({ left: enrich.score, operator: 'gt', right: 50 }))
    .step('notify', slack, ({ input, enrich }) => ({ channel: input.channel, text: `Lead ${enrich.name} at ${enrich.company} (${input.email})` }), { on: 'true' })
    .onError('notify', 'alert', slack, ({ enrich }) => ({ channel: '#ops', text: `Could not notify about ${enrich.name}` }))
    .step('reply', waitForEvent, ({ notify }) => ({ eventName: 'lead.replied', correlationKey: notify.ts, timeoutMs: 86_400_000 }))
    .build();

describe('defineWorkflow', () => {
  it('builds the wire format: a trigger with the input schema, references as templates', () => {
    const workflow = leadNotifier();
    expect(workflow.metadata).toEqual({ name: 'lead-notifier', description: 'Tells sales about hot leads' });
    expect(workflow.blocks.map((block) => [block.id, block.type])).toEqual([
      ['trigger', 'trigger_manual'],
      ['enrich', 'enrich_lead'],
      ['hot', 'condition'],
      ['notify', 'slack_post'],
      ['alert', 'slack_post'],
      ['reply', 'wait_for_event'],
    ]);
    expect(workflow.blocks[0]?.params.inputSchema).toMatchObject({ type: 'object', required: ['email'] });
    expect(workflow.blocks[1]).toEqual({
      id: 'enrich',
      type: 'enrich_lead',
      params: { email: '{{trigger.email}}' },
      enabled: true,
      retry: { maxAttempts: 1 },
      timeoutMs: 5_000,
    });
    expect(workflow.blocks[2]?.params).toEqual({ left: '{{enrich.score}}', operator: 'gt', right: 50 });
    expect(workflow.blocks[3]?.params).toEqual({
      channel: '{{trigger.channel}}',
      text: 'Lead {{enrich.name}} at {{enrich.company}} ({{trigger.email}})',
    });
  });

  it('wires each step after the previous one, branches by handle and error edges', () => {
    expect(leadNotifier().connections).toEqual([
      { source: 'trigger', target: 'enrich' },
      { source: 'enrich', target: 'hot' },
      { source: 'hot', target: 'notify', sourceHandle: 'true' },
      { source: 'notify', target: 'alert', sourceHandle: 'error' },
      { source: 'notify', target: 'reply' },
    ]);
  });

  it('joins explicit parents and writes nested and indexed paths', () => {
    const workflow = defineWorkflow('join')
      .step('a', enrich, () => ({ email: 'a@example.com' }))
      .step('b', enrich, () => ({ email: 'b@example.com' }), { after: 'trigger' })
      .step('both', slack, ({ a, b }) => ({ channel: a.tags[0] ?? '#x', text: `${a.name}+${b.name}` }), { after: ['a', 'b'] })
      .build();
    expect(workflow.connections.filter((edge) => edge.target === 'both')).toEqual([
      { source: 'a', target: 'both' },
      { source: 'b', target: 'both' },
    ]);
    expect(workflow.blocks[3]?.params).toEqual({ channel: '{{a.tags[0]}}', text: '{{a.name}}+{{b.name}}' });
  });

  it('keeps an input field named pattern while leaving regex keywords out of the input schema', () => {
    const workflow = defineWorkflow('patterns')
      .input(z.object({ pattern: z.string().regex(/^a+$/) }))
      .build();
    expect(workflow.blocks[0]?.params.inputSchema).toMatchObject({
      properties: { pattern: { type: 'string' } },
      required: ['pattern'],
    });
    expect(JSON.stringify(workflow.blocks[0]?.params.inputSchema)).not.toContain('^a+$');
  });

  it('refuses a step id used twice at run time too', () => {
    const builder = defineWorkflow('dup').step('a', enrich, () => ({ email: 'x' }));
    expect(() => builder.step('a' as never, enrich, () => ({ email: 'y' }))).toThrow(/already used/);
  });
});

describe('toEditOps', () => {
  it('gives a patch that applies cleanly to an empty workflow and rebuilds the same document', () => {
    const workflow = leadNotifier();
    const result = apply(emptyWorkflow(), toEditOps(workflow), catalog, { kind: 'user' });
    expect(result.skipped_items).toEqual([]);
    expect(result.validation_errors).toEqual([]);
    expect(result).toMatchObject({ ok: true, runnable: true });
    expect(result.workflow).toEqual(workflow);
  });

  it("carries the workflow's run timeout and concurrency limit", () => {
    const workflow = defineWorkflow('limited').timeout(60_000).concurrency(2, 'email').step('enrich', enrich, ({ input }) => ({ email: input.email as string })).build();
    expect(workflow.metadata).toEqual({ name: 'limited', description: '', timeoutMs: 60_000, concurrency: { limit: 2, keyPath: 'email' } });
    const result = apply(emptyWorkflow(), toEditOps(workflow), catalog, { kind: 'user' });
    expect(result).toMatchObject({ ok: true, skipped_items: [] });
    expect(result.workflow).toEqual(workflow);
  });

  it('produces a patch an agent can extend: the typed document and later ops edit one workflow', () => {
    const first = apply(emptyWorkflow(), toEditOps(leadNotifier()), catalog, { kind: 'user' }).workflow;
    const ops = [{ operation_type: 'update', block_id: 'hot', params: { right: 80 } }];
    const second = apply(first, ops, catalog, { kind: 'api_key' });
    expect(second).toMatchObject({ ok: true });
    expect(second.workflow.blocks.find((block) => block.id === 'hot')?.params.right).toBe(80);
  });
});
