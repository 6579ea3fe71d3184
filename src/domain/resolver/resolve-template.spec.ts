import { findForbiddenKey } from './forbidden-keys';
import { collectReferences, parseTemplate } from './reference-parser';
import { ResolvedTextTooLong, resolveTemplate, type TemplateScope } from './resolve-template';

const scope: TemplateScope = {
  trigger: { user: { name: 'Ada', tags: ['x', 'y'] }, count: 3 },
  vars: { greeting: 'hello', nested: { on: true } },
  outputs: {
    fetch: { body: { items: [{ id: 7 }] }, status: 200 },
    evil: { text: '{{env.SECRET}}' },
  },
  env: { REGION: 'eu', SECRET: 's3cret' },
  envAllowList: ['REGION'],
};

describe('resolveTemplate', () => {
  it('refuses to build interpolated text past its budget, before building it', () => {
    const big = { trigger: { s: 'x'.repeat(200_000) }, vars: {}, outputs: {} };
    // 20,000 interpolations of 200 KB would be 4 GB of text (past V8's string limit), 2,000 400 MB.
    for (const repeats of [20_000, 2_000]) {
      expect(() => resolveTemplate('{{trigger.s}}!'.repeat(repeats), big, 262_144)).toThrow(ResolvedTextTooLong);
      expect(() => resolveTemplate({ a: '{{trigger.s}}!'.repeat(repeats) }, big, 262_144)).toThrow(expect.objectContaining({ code: 'payload_too_large', retryable: false }));
    }
    // The budget counts every string of the params together.
    const two = { a: '<{{trigger.s}}>', b: '<{{trigger.s}}>' };
    expect(() => resolveTemplate(two, big, 400_003)).toThrow(ResolvedTextTooLong);
    expect(resolveTemplate(two, big, 400_004)).toEqual({ a: `<${big.trigger.s}>`, b: `<${big.trigger.s}>` });
    // A reference that is the whole string is the value itself, shared: no text is built.
    expect(resolveTemplate(Array(20_000).fill('{{trigger.s}}'), big, 262_144)).toHaveLength(20_000);
  });

  it('keeps the type of a string that is exactly one reference', () => {
    expect(resolveTemplate('{{fetch.body.items}}', scope)).toEqual([{ id: 7 }]);
    expect(resolveTemplate('{{ trigger.count }}', scope)).toBe(3);
    expect(resolveTemplate('{{vars.nested.on}}', scope)).toBe(true);
    expect(resolveTemplate('{{fetch.body.items[0].id}}', scope)).toBe(7);
  });

  it('interpolates other strings as text, objects as JSON', () => {
    expect(
      resolveTemplate(
        '{{vars.greeting}}, {{trigger.user.name}}! {{fetch.body.items.0}} {{fetch.missing}}.',
        scope,
      ),
    ).toBe('hello, Ada! {"id":7} .');
    expect(resolveTemplate(' {{trigger.count}}', scope)).toBe(' 3');
  });

  it('resolves nested values and leaves non-references alone', () => {
    expect(
      resolveTemplate({ a: ['{{trigger.user.tags.1}}', 2], b: '{{#each}}', c: null }, scope),
    ).toEqual({ a: ['y', 2], b: '{{#each}}', c: null });
  });

  it('never re-scans resolved values', () => {
    expect(resolveTemplate('{{evil.text}}', scope)).toBe('{{env.SECRET}}');
    expect(resolveTemplate('x {{evil.text}}', scope)).toBe('x {{env.SECRET}}');
  });

  it('reads env only for allowed names', () => {
    expect(resolveTemplate('{{env.REGION}}', scope)).toBe('eu');
    expect(resolveTemplate('{{env.SECRET}}', scope)).toBeUndefined();
  });

  it('resolves prototype keys in paths to undefined', () => {
    for (const path of [
      'trigger.__proto__',
      'trigger.constructor',
      'vars.constructor.prototype',
      'fetch.body.items.constructor',
      'trigger.user.toString',
      'constructor.name',
      'prototype',
    ]) {
      expect(resolveTemplate(`{{${path}}}`, scope)).toBeUndefined();
    }
  });

  it('leaves {{__proto__…}} as literal text: it is not a reference', () => {
    expect(resolveTemplate('{{__proto__.x}}', scope)).toBe('{{__proto__.x}}');
  });

  it('drops prototype keys when rebuilding objects', () => {
    const resolved = resolveTemplate(
      JSON.parse('{"__proto__":{"polluted":true},"ok":1}'),
      scope,
    ) as Record<string, unknown>;
    expect(Object.keys(resolved)).toEqual(['ok']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('reference parser', () => {
  it('parses roots, dot and bracket paths, exactness and malformed references', () => {
    expect(parseTemplate('{{a-b.c[2].d}}')).toEqual({
      exact: { raw: '{{a-b.c[2].d}}', root: 'a-b', path: ['c', '2', 'd'] },
      references: [expect.anything()],
      malformed: [],
    });
    expect(parseTemplate('x {{trigger.}} {{ }} {{vars.a}}')).toMatchObject({
      references: [{ root: 'vars', path: ['a'] }],
      malformed: ['{{trigger.}}'],
    });
    expect(parseTemplate('plain').references).toEqual([]);
  });

  it('locates references inside nested values', () => {
    expect(
      collectReferences({ h: { auth: 'Bearer {{vars.t}}' }, list: ['{{a.b}}'] }).map((found) => [
        found.field.join('.'),
        found.exact,
      ]),
    ).toEqual([
      ['h.auth', false],
      ['list.0', true],
    ]);
  });

  it('finds prototype keys anywhere in JSON-parsed data', () => {
    expect(findForbiddenKey(JSON.parse('{"a":[{"b":{"__proto__":1}}]}'))).toEqual({
      kind: 'forbidden_key',
      path: 'a[0].b.__proto__',
    });
    expect(findForbiddenKey({ a: { b: 1 } })).toBeUndefined();
  });
});
