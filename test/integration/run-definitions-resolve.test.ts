import { randomUUID } from 'node:crypto';
import { definitionStreamId, type RunDefinition } from '../../src/domain/run/run-definition';
import { definitionDigest, resolveRunDefinitions } from '../../src/run-queue/run-definitions';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { transformChain } from '../support/run-workflows';

// A run start names its pinned workflow by the SHA-256 of the definition's content
// (src/domain/run/run-definition.ts). The name is checked when the definition is read: a row
// whose content does not hash to its stream's name (written around the application, or edited)
// must never be folded as the run's workflow.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('run_definitions_resolve');
});
afterAll(async () => db?.drop());

const definitionFor = (organizationId: string, template: string): RunDefinition => {
  const workflow = transformChain(1);
  workflow.blocks = workflow.blocks.map((b) => (b.type === 'transform' ? { ...b, params: { template } } : b));
  return { organizationId, workflowId: 'wf-1', workflowVersion: 1, workflow, blocks: {} };
};

async function store(streamDigest: string, definition: RunDefinition): Promise<void> {
  await db.pool.query(
    `INSERT INTO events (stream_id, stream_version, organization_id, type, data) VALUES ($1, 1, $2, 'RunDefinitionRecorded', $3::jsonb)`,
    [definitionStreamId(streamDigest), definition.organizationId, JSON.stringify(definition)],
  );
}

const startNaming = (digest: string, organizationId: string): { type: string; data: unknown } => ({
  type: 'RunStarted',
  data: { runId: randomUUID(), organizationId, workflowId: 'wf-1', workflowVersion: 1, definition: digest, input: {}, startedAt: new Date().toISOString() },
});

it('resolves a start to the definition its name hashes to', async () => {
  const organizationId = `org-${randomUUID()}`;
  const definition = definitionFor(organizationId, 'honest');
  const digest = definitionDigest(definition);
  await store(digest, definition);
  const [resolved] = await resolveRunDefinitions(db.pool, [startNaming(digest, organizationId)]);
  expect((resolved!.data as { workflow: RunDefinition['workflow'] }).workflow).toEqual(definition.workflow);
});

it('refuses a definition stored under a name its content does not hash to', async () => {
  const organizationId = `org-${randomUUID()}`;
  const pinned = definitionFor(organizationId, 'pinned');
  const digest = definitionDigest(pinned);
  // Another workflow's content under the pinned one's name.
  await store(digest, definitionFor(organizationId, 'swapped'));
  await expect(resolveRunDefinitions(db.pool, [startNaming(digest, organizationId)])).rejects.toThrow(/does not hold the content it names/);
});
