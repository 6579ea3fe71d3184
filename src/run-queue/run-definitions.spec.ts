import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../audit/proof/canonical';
import type { RunDefinition } from '../domain/run/run-definition';
import type { RunStarted } from '../domain/run/run.events';
import { definitionDigest, RunDefinitionWriter } from './run-definitions';

// A definition's name is the SHA-256 of its canonical form. The start's handler names it and the
// writer checks the name before storing, both from the same (never mutated) objects: the second
// hash is skipped, but any other objects are hashed, so a name that does not fit its content is
// still refused.

const definition = (template: string): RunDefinition => ({
  organizationId: 'org-1',
  workflowId: 'wf-1',
  workflowVersion: 1,
  workflow: {
    metadata: { name: 'one', description: '' },
    variables: {},
    blocks: [
      { id: 'trigger', type: 'trigger_manual', params: {}, enabled: true },
      { id: 'a', type: 'transform', params: { template }, enabled: true },
    ],
    connections: [{ source: 'trigger', target: 'a' }],
  },
  blocks: { a: { pure: true } } as unknown as RunDefinition['blocks'],
});

const startOf = (named: string, content: RunDefinition): RunStarted => ({
  type: 'RunStarted',
  data: { runId: randomUUID(), ...content, definition: named, input: {}, startedAt: new Date().toISOString() },
});

// Every canonical form computed is counted (the real function, called through).
jest.mock('../audit/proof/canonical', () => {
  const actual = jest.requireActual<typeof import('../audit/proof/canonical')>('../audit/proof/canonical');
  return { ...actual, canonicalJson: jest.fn(actual.canonicalJson) };
});
const hashing = canonicalJson as jest.MockedFunction<typeof canonicalJson>;

beforeEach(() => hashing.mockClear());

describe('definitionDigest', () => {
  it('hashes the same objects once, and equal content in other objects to the same name', () => {
    const pinned = definition('x');
    const name = definitionDigest(pinned);
    expect(definitionDigest({ ...pinned })).toBe(name);
    expect(hashing).toHaveBeenCalledTimes(1);
    expect(definitionDigest(structuredClone(pinned))).toBe(name);
    expect(hashing).toHaveBeenCalledTimes(2);
    expect(definitionDigest({ ...pinned, workflowVersion: 2 })).not.toBe(name);
  });
});

describe('RunDefinitionWriter.prepare', () => {
  const writer = () => new RunDefinitionWriter({} as never);

  it('takes a start named from the objects it carries without hashing them again', () => {
    const pinned = definition('x');
    const name = definitionDigest(pinned);
    expect(hashing).toHaveBeenCalledTimes(1);
    const prepared = writer().prepare([startOf(name, pinned)]);
    expect(prepared.definition?.digest).toBe(name);
    expect(hashing).toHaveBeenCalledTimes(1);
  });

  it('refuses a start whose content is not what its name was computed from', () => {
    const pinned = definition('x');
    const name = definitionDigest(pinned);
    const other = definition('y');
    expect(() => writer().prepare([startOf(name, other)])).toThrow(/does not name its content/);
    // The same blocks object with another workflow: not the objects the name came from either.
    expect(() => writer().prepare([startOf(name, { ...pinned, workflow: other.workflow })])).toThrow(/does not name its content/);
  });
});
