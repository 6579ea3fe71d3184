import { START } from '../../src/event-store/event';
import { EventStore } from '../../src/event-store/event-store';
import { eventCountsProjection } from '../../src/projections/event-counts.projection';
import { rebuildProjection } from '../../src/projections/rebuild';
import { createTestDatabase, readWhenVisible, TestDatabase } from '../support/database';
import { systemMetadata } from '../support/metadata';
import { recordStatements } from '../support/statements';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('event_counts');
});
afterAll(() => db.drop());

it('counts events per organization, stream kind, type and day — batched or one by one, the same rows', async () => {
  const store = new EventStore(db.pool, 'unused');
  for (let i = 0; i < 12; i++) {
    await store.append(`run-${i}`, 0, [{ type: 'RunStarted', data: {} }, { type: i % 3 ? 'RunCompleted' : 'RunFailed', data: {} }], {
      organizationId: i % 2 ? 'org-a' : 'org-b',
      metadata: systemMetadata,
    });
  }
  await store.append('workflow-1', 0, [{ type: 'WorkflowCreated', data: {} }], { organizationId: 'org-a', metadata: systemMetadata });

  // The rebuild, like the runner, stops below the server's oldest open writing transaction.
  expect(await readWhenVisible(25, store, START)).toHaveLength(25);
  const stop = recordStatements();
  let texts: string[] = [];
  await rebuildProjection(db.pool, store, eventCountsProjection).finally(() => (texts = stop())); // batched
  // Every event fits one page, and the page says nothing follows: no second, empty read.
  expect(texts.filter((text) => text.includes('read_rows'))).toHaveLength(1);
  const batched = (await db.pool.query('SELECT organization_id, stream_kind, event_type, count::int FROM event_counts ORDER BY 1, 2, 3')).rows;
  expect(batched).toEqual([
    { organization_id: 'org-a', stream_kind: 'run', event_type: 'RunCompleted', count: 4 },
    { organization_id: 'org-a', stream_kind: 'run', event_type: 'RunFailed', count: 2 },
    { organization_id: 'org-a', stream_kind: 'run', event_type: 'RunStarted', count: 6 },
    { organization_id: 'org-a', stream_kind: 'workflow', event_type: 'WorkflowCreated', count: 1 },
    { organization_id: 'org-b', stream_kind: 'run', event_type: 'RunCompleted', count: 4 },
    { organization_id: 'org-b', stream_kind: 'run', event_type: 'RunFailed', count: 2 },
    { organization_id: 'org-b', stream_kind: 'run', event_type: 'RunStarted', count: 6 },
  ]);

  await db.pool.query('TRUNCATE event_counts');
  for (const event of (await store.readAll(START)).events) await eventCountsProjection.apply(db.pool, event);
  expect((await db.pool.query('SELECT organization_id, stream_kind, event_type, count::int FROM event_counts ORDER BY 1, 2, 3')).rows).toEqual(batched);
});
