import { ConfigError, parseConfig } from './config';
import { settingsAsVariables, withOptionNames } from './config-options';

describe('startThodare settings', () => {
  it('become the variables they stand for, lists comma-joined', () => {
    const config = parseConfig(settingsAsVariables({ port: 0, schema: 'mine', trustProxy: true, httpAllowHosts: ['a.test', 'b.test'], logLevel: undefined }));
    expect(config).toMatchObject({ port: 0, schema: 'mine', trustProxy: true, httpAllowHosts: ['a.test', 'b.test'], logLevel: 'info' });
  });

  it('refuses an unknown option rather than ignoring a typo', () => {
    expect(() => settingsAsVariables({ prot: 3000 })).toThrow(new ConfigError(['prot: not a Thodare option']));
  });

  it("names both the option and its variable in the parser's problems", () => {
    let error: unknown;
    try {
      parseConfig(settingsAsVariables({ port: 99999, schema: 'Drop Table' }));
    } catch (caught) {
      error = withOptionNames(caught as ConfigError);
    }
    expect((error as ConfigError).problems).toEqual([
      'port (PORT): must be between 0 and 65535 (got "99999")',
      'schema (THODARE_SCHEMA): must be a lowercase SQL identifier (letters, digits, _; at most 63 chars) (got "Drop Table")',
    ]);
  });
});
