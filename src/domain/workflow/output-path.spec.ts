import { z } from 'zod';
import { checkOutputPath } from './output-path';

const outputs = z.object({
  status: z.number(),
  body: z.unknown(),
  user: z
    .object({ name: z.string(), emails: z.array(z.object({ address: z.string() })).optional() })
    .nullable(),
  headers: z.record(z.string(), z.string()),
  pair: z.tuple([z.string(), z.object({ x: z.number() })]),
  either: z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]),
  extra: z.looseObject({ known: z.string() }),
});

describe('checkOutputPath', () => {
  it.each([
    [['status']],
    [['body', 'anything', 'deep']],
    [['user', 'emails', '3', 'address']],
    [['user', 'emails', 'length']],
    [['headers', 'content-type']],
    [['pair', '1', 'x']],
    [['either', 'b']],
    [['extra', 'whatever']],
    [[]],
  ])('accepts %j', (path) => {
    expect(checkOutputPath(outputs, path)).toEqual({ ok: true });
  });

  it('reports where a path breaks and what exists there', () => {
    expect(checkOutputPath(outputs, ['stat'])).toMatchObject({
      ok: false,
      at: 0,
      allowed: ['status', 'body', 'user', 'headers', 'pair', 'either', 'extra'],
    });
    expect(checkOutputPath(outputs, ['user', 'emails', '0', 'adress'])).toMatchObject({
      ok: false,
      at: 3,
      allowed: ['address'],
    });
    expect(checkOutputPath(outputs, ['status', 'code'])).toMatchObject({
      ok: false,
      at: 1,
      allowed: [],
      found: 'number',
    });
    expect(checkOutputPath(outputs, ['user', 'emails', 'first'])).toMatchObject({
      ok: false,
      at: 2,
      allowed: ['<index>', 'length'],
    });
    expect(checkOutputPath(outputs, ['either', 'c'])).toMatchObject({
      ok: false,
      at: 1,
      allowed: ['a', 'b'],
    });
    expect(checkOutputPath(outputs, ['user', '__proto__'])).toMatchObject({ ok: false, at: 1 });
  });
});
