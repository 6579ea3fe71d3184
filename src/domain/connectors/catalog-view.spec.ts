import { z } from 'zod';
import { catalogView, connectorEntry, type ConnectorEntry } from './catalog-view';
import { createConnectorCatalog, DuplicateConnectorType } from './connector-catalog';
import { defineConnector } from './define-connector';
import { pureBuiltinConnectors } from './builtins/pure-builtins';
import { hidden, userOnly } from './visibility';

const vault = defineConnector({
  type: 'vault_write',
  name: 'Vault write',
  description: 'Writes a value.',
  category: 'security',
  kind: 'action',
  params: z.object({
    path: z.string(),
    owner: userOnly(z.string()),
    zzSecretTokenParam: hidden(z.string()),
    nested: z.object({ note: z.string(), zzNestedHiddenParam: hidden(z.string()) }).optional(),
  }),
  outputs: z.object({ version: z.number() }),
  secrets: { zzSecretTokenParam: 'VAULT_TOKEN' },
  run: async () => ({ version: 1 }),
});
const catalog = createConnectorCatalog([...pureBuiltinConnectors(), vault]);

describe('catalog views', () => {
  it('lists summaries in registration order', () => {
    expect(catalogView(catalog, 'summary')[0]).toEqual({
      type: 'trigger_manual',
      name: 'Manual trigger',
      description: expect.any(String),
      category: 'trigger',
      kind: 'trigger',
    });
    expect(catalogView(catalog).map((entry) => entry.type)).toContain('vault_write');
  });

  it('never contains a hidden param name anywhere, required arrays included', () => {
    const json = JSON.stringify(catalogView(catalog, 'full'));
    expect(json).not.toContain('zzSecretTokenParam');
    expect(json).not.toContain('zzNestedHiddenParam');
    expect(json).not.toContain('"x-visibility":"hidden"');
  });

  it('marks user-only params and lists secret names', () => {
    const entry = connectorEntry(vault);
    expect(entry.params).toMatchObject({
      type: 'object',
      required: ['path', 'owner'],
      properties: { owner: { type: 'string', 'x-visibility': 'user-only' } },
    });
    expect(entry.secrets).toEqual(['VAULT_TOKEN']);
    expect(entry.outputs).toMatchObject({ properties: { version: { type: 'number' } } });
  });

  it('shows condition branches and param enums as JSON Schema', () => {
    const condition = (catalogView(catalog, 'full') as ConnectorEntry[]).find(
      (entry) => entry.type === 'condition',
    );
    expect(condition?.sourceHandles).toEqual(['true', 'false']);
    // Pure: its steps ride in their neighbours' commits; a connector that calls out is not.
    expect(condition?.pure).toBe(true);
    expect(connectorEntry(vault).pure).toBeUndefined();
    expect(condition?.params).toMatchObject({
      properties: {
        operator: { enum: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'contains', 'exists'] },
      },
    });
  });

  it('finds types by name and suggests the nearest for a typo or alias', () => {
    expect(catalog.get('transform')?.kind).toBe('action');
    expect(catalog.get('__proto__')).toBeUndefined();
    expect(catalog.nearestType('tranform')).toBe('transform');
    expect(catalog.nearestType('Wait-Duration')).toBe('wait_duration');
    expect(catalog.nearestType('sleep')).toBe('wait_duration');
    expect(catalog.nearestType('if')).toBe('condition');
    expect(catalog.nearestType('completely_unrelated_thing')).toBeUndefined();
  });

  it('refuses two connectors with one type', () => {
    expect(() => createConnectorCatalog([vault, vault])).toThrow(DuplicateConnectorType);
  });
});
