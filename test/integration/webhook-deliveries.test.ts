import type { PoolClient } from 'pg';
import { DELIVERY_STREAM_PREFIX } from '../../src/domain/webhook/webhook.events';
import type { RecordedEvent } from '../../src/event-store/event';
import { webhooksProjection } from '../../src/webhooks/webhooks.projection';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { waitUntilBlocked } from '../support/locks';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('webhook_deliveries', 5);
});
afterAll(() => db.drop());

let position = 0;
/** A `WebhookReceived` of webhook `w-1` with dedupe key `key`, as the event store hands it to the projection. */
function received(key: string): RecordedEvent {
  position += 1;
  const deliveryId = `d-${key}-${position}`;
  return {
    globalPosition: position,
    transactionId: '1',
    streamId: `${DELIVERY_STREAM_PREFIX}${deliveryId}`,
    streamVersion: 1,
    organizationId: 'org-1',
    type: 'WebhookReceived',
    data: { deliveryId, webhookId: 'w-1', runId: `run-${deliveryId}`, dedupeKey: key, receivedAt: new Date().toISOString() },
    metadata: { actor: { type: 'system', id: 'test' } },
    recordedAt: new Date(),
    recordedAtExact: new Date().toISOString(),
  };
}

describe('webhook delivery rows', () => {
  it('are inserted in dedupe-key order, so two groups with the same twins in opposite orders wait instead of deadlocking', async () => {
    // A group claims two deliveries' keys the other way round from another transaction that is
    // recording the same two keys, the first already held (two groups in flight at once).
    const other: PoolClient = await db.pool.connect();
    const group: PoolClient = await db.pool.connect();
    try {
      await other.query('BEGIN');
      await webhooksProjection.applyBatch!(other, [received('key-a')]);
      const groupPid = (await group.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await group.query('BEGIN');
      const recorded = webhooksProjection.applyBatch!(group, [received('key-b'), received('key-a')]).then(
        () => 'recorded',
        (error: { code?: string }) => error.code,
      );
      await waitUntilBlocked(db.pool, groupPid);
      await webhooksProjection.applyBatch!(other, [received('key-b')]); // a deadlock here before
      await other.query('COMMIT');
      // The group's twins lose to the deliveries that committed first: a unique violation, which
      // the recorder answers one by one as duplicates (never a deadlock: 40P01).
      expect(await recorded).toBe('23505');
      await group.query('ROLLBACK');
    } finally {
      other.release();
      group.release();
    }
  });
});
