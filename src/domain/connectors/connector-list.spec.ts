import { z } from 'zod';
import { connectorProblems, InvalidConnectors } from './connector-list';
import { defineConnector } from './define-connector';

const action = (type: string) =>
  defineConnector({
    type,
    name: type,
    description: 'test',
    category: 'test',
    kind: 'action',
    params: z.object({ text: z.string() }),
    outputs: z.object({ text: z.string() }),
    run: async ({ text }) => ({ text }),
  });

describe('connectorProblems', () => {
  it('accepts connectors made by defineConnector whose types are free', () => {
    expect(connectorProblems([action('shout'), action('whisper')], ['transform'])).toEqual([]);
  });

  it('names a type taken by a builtin or by an earlier connector of the list', () => {
    expect(connectorProblems([action('transform'), action('shout'), action('shout')], ['transform'])).toEqual([
      "connector #1 ('transform'): type 'transform' is already taken by a builtin connector",
      "connector #3 ('shout'): type 'shout' is already taken by connector #2",
    ]);
  });

  it('lists every problem of a definition not made by defineConnector', () => {
    const raw = { type: 'raw', kind: 'action', params: z.object({}), outputs: 'text' };
    expect(connectorProblems([raw, 42, null], [])).toEqual([
      "connector #1 ('raw'): was not made by defineConnector (wrap the definition in defineConnector({...}))",
      "connector #1 ('raw'): outputs must be a zod object (z.object({...}))",
      "connector #1 ('raw'): an action needs a run function",
      'connector #2: expected a connector made by defineConnector, got number',
      'connector #3: expected a connector made by defineConnector, got null',
    ]);
  });

  it('formats every problem into one message, naming where the list came from', () => {
    expect(new InvalidConnectors(['a', 'b'], './mine.js').message).toBe('Invalid connectors in ./mine.js:\n  - a\n  - b');
  });
});
