import { z } from 'zod';
import { defineConnector, InvalidConnectorDefinition } from './define-connector';
import { DEFAULT_RETRY_POLICY } from './connector';
import { hidden, userOnly, visibilityOf } from './visibility';

const base = { name: 'N', description: 'D', category: 'c', outputs: z.object({ ok: z.boolean() }) };

describe('defineConnector', () => {
  it('derives hidden and user-only params and the agent-visible params schema', () => {
    const connector = defineConnector({
      ...base,
      type: 'mail',
      kind: 'action',
      params: z.object({
        to: z.string(),
        from: userOnly(z.string()).optional(),
        token: hidden(z.string()),
      }),
      secrets: { token: 'MAIL_TOKEN' },
      run: async (params) => ({ ok: params.to.length > 0 && params.token.length > 0 }),
    });
    expect([...connector.hiddenParams]).toEqual(['token']);
    expect([...connector.userOnlyParams]).toEqual(['from']);
    expect(Object.keys(connector.agentParams.shape)).toEqual(['to', 'from']);
    expect(connector.retry).toEqual(DEFAULT_RETRY_POLICY);
  });

  it('reads visibility through optional, default and nullable wrappers', () => {
    expect(visibilityOf(hidden(z.string()).optional())).toBe('hidden');
    expect(visibilityOf(userOnly(z.number()).default(1).nullable())).toBe('user-only');
    expect(visibilityOf(z.string())).toBeUndefined();
  });

  it('refuses a required hidden param without a secret binding', () => {
    expect(() =>
      defineConnector({
        ...base,
        type: 'x',
        kind: 'action',
        params: z.object({ token: hidden(z.string()) }),
        run: async () => ({ ok: true }),
      }),
    ).toThrow(InvalidConnectorDefinition);
  });

  it('refuses a secret binding on a param that is not hidden', () => {
    expect(() =>
      defineConnector({
        ...base,
        type: 'x',
        kind: 'action',
        params: z.object({ token: z.string() }),
        secrets: { token: 'T' },
        run: async () => ({ ok: true }),
      }),
    ).toThrow(/not a hidden param/);
  });

  it('refuses a type that is not snake_case', () => {
    expect(() =>
      defineConnector({ ...base, type: 'Bad-Type', kind: 'wait', params: z.object({}) }),
    ).toThrow(/type must match/);
  });

  it('lets only actions that bind no secrets be pure', () => {
    const run = async () => ({ ok: true });
    expect(defineConnector({ ...base, type: 'calc', kind: 'action', pure: true, params: z.object({}), run }).pure).toBe(true);
    expect(() => defineConnector({ ...base, type: 'hold', kind: 'wait', pure: true, params: z.object({}) })).toThrow(/only action connectors may be pure/);
    expect(() =>
      defineConnector({ ...base, type: 'mail', kind: 'action', pure: true, params: z.object({ token: hidden(z.string()) }), secrets: { token: 'MAIL_TOKEN' }, run }),
    ).toThrow(/cannot bind secrets/);
  });

  it('lets wait connectors declare no run', () => {
    expect(
      defineConnector({ ...base, type: 'hold', kind: 'wait', params: z.object({}) }).run,
    ).toBeUndefined();
  });
});
