import { CurrentWorkflows } from './current-workflows';
import type { CurrentWorkflow } from './workflow-read-model';

const ORG = 'org-1';

/** A workflow whose JSON weighs about `bytes`. */
function workflowOf(id: string, bytes: number, version = 1): CurrentWorkflow {
  const blocks = [{ id: 'a', type: 'transform', params: { template: 'x'.repeat(bytes) }, enabled: true }];
  return { id, version, streamVersion: version, workflow: { metadata: { name: id, description: '' }, variables: {}, blocks, connections: [] } };
}

describe('CurrentWorkflows', () => {
  it('keeps the most recently used up to its count', () => {
    const kept = new CurrentWorkflows({ workflows: 2, bytes: 1e9 });
    kept.keep(ORG, workflowOf('a', 10));
    kept.keep(ORG, workflowOf('b', 10));
    expect(kept.kept(ORG, 'a')?.id).toBe('a'); // now the most recently used
    kept.keep(ORG, workflowOf('c', 10));
    expect(kept.kept(ORG, 'b')).toBeUndefined();
    expect(kept.kept(ORG, 'a')?.id).toBe('a');
    expect(kept.kept(ORG, 'c')?.id).toBe('c');
  });

  it('keeps no more workflow JSON than its byte budget: the least recently used go first', () => {
    const kept = new CurrentWorkflows({ workflows: 100, bytes: 10_000 });
    kept.keep(ORG, workflowOf('a', 6_000));
    kept.keep(ORG, workflowOf('b', 3_000));
    kept.keep(ORG, workflowOf('c', 3_000));
    expect(kept.kept(ORG, 'a')).toBeUndefined();
    expect(kept.kept(ORG, 'b')?.id).toBe('b');
    expect(kept.kept(ORG, 'c')?.id).toBe('c');
  });

  it('counts a workflow kept again once, at its new weight', () => {
    const kept = new CurrentWorkflows({ workflows: 100, bytes: 10_000 });
    kept.keep(ORG, workflowOf('a', 6_000, 1));
    kept.keep(ORG, workflowOf('a', 6_000, 2));
    kept.keep(ORG, workflowOf('b', 3_000));
    expect(kept.kept(ORG, 'a')?.version).toBe(2);
    expect(kept.kept(ORG, 'b')?.id).toBe('b');
  });

  it('does not keep a workflow heavier than the whole budget, and forgets the version it replaces', () => {
    const kept = new CurrentWorkflows({ workflows: 100, bytes: 10_000 });
    kept.keep(ORG, workflowOf('a', 100, 1));
    kept.keep(ORG, workflowOf('b', 100));
    kept.keep(ORG, workflowOf('a', 20_000, 2));
    expect(kept.kept(ORG, 'a')).toBeUndefined();
    expect(kept.kept(ORG, 'b')?.id).toBe('b');
  });

  it('keeps per organization', () => {
    const kept = new CurrentWorkflows({ workflows: 10, bytes: 1e6 });
    kept.keep(ORG, workflowOf('a', 10));
    expect(kept.kept('org-2', 'a')).toBeUndefined();
    kept.forget(ORG, 'a');
    expect(kept.kept(ORG, 'a')).toBeUndefined();
  });
});
