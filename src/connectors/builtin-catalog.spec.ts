import { catalogView, type ConnectorEntry } from '../domain/connectors/catalog-view';
import { buildBuiltinCatalog } from './builtin-catalog';

describe('builtin catalog', () => {
  const catalog = buildBuiltinCatalog({
    httpAllowHosts: ['127.0.0.1'],
    slackBaseUrl: 'http://127.0.0.1:1/api',
  });

  it('offers every builtin type of the API contract', () => {
    expect(
      catalog
        .list()
        .map((connector) => connector.type)
        .sort(),
    ).toEqual([
      'condition',
      'http_request',
      'human_approval',
      'slack_send_message',
      'transform',
      'trigger_event',
      'trigger_manual',
      'trigger_schedule',
      'trigger_webhook',
      'wait_duration',
      'wait_for_event',
    ]);
  });

  it('never contains a hidden param name anywhere in its JSON, but names the secrets', () => {
    const full = catalogView(catalog, 'full') as ConnectorEntry[];
    const hiddenNames = catalog.list().flatMap((connector) => [...connector.hiddenParams]);
    expect(hiddenNames).toEqual(['botToken']);
    for (const name of hiddenNames) expect(JSON.stringify(full)).not.toContain(name);
    expect(full.find((entry) => entry.type === 'slack_send_message')?.secrets).toEqual([
      'SLACK_BOT_TOKEN',
    ]);
    expect(full.find((entry) => entry.type === 'slack_send_message')?.params).toMatchObject({
      required: ['channel', 'text'],
    });
  });

  it('suggests builtins for common agent spellings', () => {
    expect(catalog.nearestType('slack')).toBe('slack_send_message');
    expect(catalog.nearestType('http')).toBe('http_request');
    expect(catalog.nearestType('send_slack_message')).toBe('slack_send_message');
    expect(catalog.nearestType('webhook')).toBe('trigger_webhook');
  });
});
