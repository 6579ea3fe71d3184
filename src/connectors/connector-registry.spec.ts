import { z } from 'zod';
import { defineConnector } from '../domain/connectors/define-connector';
import { buildCatalog } from './connector-registry';

const config = { httpAllowHosts: ['127.0.0.1'], slackBaseUrl: 'http://127.0.0.1:1/api' };

describe('the catalog a process serves', () => {
  it("compiles every connector's validators as it is built, even one whose refinement cannot take {}", () => {
    const touchy = defineConnector({
      type: 'touchy',
      name: 'Touchy',
      description: 'Its params refinement throws on anything but a string id.',
      category: 'test',
      kind: 'action',
      params: z.object({ id: z.string().optional() }).refine((params) => {
        if (typeof params.id !== 'string') throw new Error('no id');
        return true;
      }),
      outputs: z.object({}),
      run: async () => ({}),
    } as never);
    const catalog = buildCatalog(config, [touchy]);
    expect(catalog.get('touchy')?.params.safeParse({ id: 'a' }).success).toBe(true);
    expect(catalog.list().map((c) => c.type)).toContain('wait_duration');
  });
});
