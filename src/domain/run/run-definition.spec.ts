import { definitionOf, definitionStreamId, namesDefinition, resolvedRunStarted, storedRunStarted } from './run-definition';
import type { RunStarted } from './run.events';
import { chain, run, started } from './run.spec-fixtures';

const DIGEST = 'a'.repeat(64);
const named = (): RunStarted['data'] & { definition: string } => ({ ...(started(chain(2)) as RunStarted).data, definition: DIGEST });

describe('a start that names its definition', () => {
  it('is stored without workflow and blocks, and resolves back to the same start', () => {
    const data = named();
    const stored = storedRunStarted(data);
    expect(stored).not.toHaveProperty('workflow');
    expect(stored).not.toHaveProperty('blocks');
    expect(namesDefinition(stored)).toBe(true);
    expect(resolvedRunStarted(stored, definitionOf(data))).toEqual(data);
  });

  it('folds, once resolved, to the state of the inline start', () => {
    const data = named();
    const resolved = resolvedRunStarted(storedRunStarted(data), definitionOf(data));
    const inline = run.fold([started(chain(2))]);
    const fromStored = run.fold([{ type: 'RunStarted', data: resolved }]);
    expect([...fromStored.graph.blocks.keys()]).toEqual([...inline.graph.blocks.keys()]);
    expect(fromStored.status).toBe(inline.status);
  });

  it('refuses a definition of another organization or workflow version', () => {
    const data = named();
    const stored = storedRunStarted(data);
    expect(() => resolvedRunStarted(stored, { ...definitionOf(data), organizationId: 'o2' })).toThrow(/another workflow version/);
    expect(() => resolvedRunStarted(stored, { ...definitionOf(data), workflowVersion: 2 })).toThrow(/another workflow version/);
  });

  it('is told apart from a start stored inline, whose stream predates definitions', () => {
    expect(namesDefinition((started(chain(1)) as RunStarted).data)).toBe(false);
    expect(namesDefinition(named())).toBe(false); // still carries its workflow: nothing to resolve
    expect(definitionStreamId(DIGEST)).toBe(`definition-${DIGEST}`);
  });
});
