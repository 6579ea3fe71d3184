import { createHash } from 'node:crypto';
import {
  runIdOf,
  type ApprovalDecided,
  type ApprovalRequested,
  type RunEvent,
  type RunWaitingForEvent,
  type WaitCompleted,
} from '../domain/run/run.events';
import type { Projection } from '../event-store/projection';

/** The lookup key of an approval token: its SHA-256, hex. */
export function approvalTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * `run_event_waits` (open `wait_for_event` waits, what a published event is matched against) and
 * `run_approvals` (approval tokens by hash, with their decision). Inline: a publisher must see a
 * wait as soon as its append commits, or an event published in between could be missed.
 */
export const runWaitsProjection: Projection = {
  name: 'run_waits',
  mode: 'inline',
  handles: ['RunWaitingForEvent', 'WaitCompleted', 'ApprovalRequested', 'ApprovalDecided', 'RunCancelled', 'RunFailed'],
  tables: ['run_event_waits', 'run_approvals'],
  // A sleep's end: sleeps have no row here (only event waits and approvals do).
  ignores: (event) => event.type === 'WaitCompleted' && (event.data as WaitCompleted['data']).reason === 'elapsed',
  async apply(db, recorded) {
    const runId = runIdOf(recorded.streamId);
    const event = { type: recorded.type, data: recorded.data } as RunEvent;
    switch (event.type) {
      case 'RunWaitingForEvent':
        return waitBegan(db, runId, recorded.organizationId, event.data);
      case 'WaitCompleted':
        return waitEnded(db, runId, event.data);
      case 'ApprovalRequested':
        return approvalRequested(db, runId, recorded.organizationId, event.data);
      case 'ApprovalDecided':
        return approvalDecided(db, event.data);
      case 'RunCancelled':
      case 'RunFailed':
        await db.query('DELETE FROM run_event_waits WHERE run_id = $1', [runId]);
        await db.query(`UPDATE run_approvals SET status = 'cancelled' WHERE run_id = $1 AND status = 'pending'`, [runId]);
        return;
      default:
        return;
    }
  },
};

type Db = Parameters<Projection['apply']>[0];

async function waitBegan(db: Db, runId: string, organizationId: string, data: RunWaitingForEvent['data']): Promise<void> {
  await db.query(
    `INSERT INTO run_event_waits (run_id, block_id, organization_id, event_name, correlation_key, until, since)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [runId, data.blockId, organizationId, data.eventName, data.correlationKey ?? null, data.until ?? null, data.at],
  );
}

async function waitEnded(db: Db, runId: string, data: WaitCompleted['data']): Promise<void> {
  await db.query('DELETE FROM run_event_waits WHERE run_id = $1 AND block_id = $2', [runId, data.blockId]);
  if (data.reason === 'timeout') {
    await db.query(
      `UPDATE run_approvals SET status = 'timed_out' WHERE run_id = $1 AND block_id = $2 AND status = 'pending'`,
      [runId, data.blockId],
    );
  }
}

async function approvalRequested(db: Db, runId: string, organizationId: string, data: ApprovalRequested['data']): Promise<void> {
  await db.query(
    `INSERT INTO run_approvals (token_hash, organization_id, run_id, block_id, prompt, status, requested_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) ON CONFLICT DO NOTHING`,
    [approvalTokenHash(data.token), organizationId, runId, data.blockId, data.prompt, data.at, data.until ?? null],
  );
}

async function approvalDecided(db: Db, data: ApprovalDecided['data']): Promise<void> {
  await db.query(
    `UPDATE run_approvals SET status = $2, decided_by = $3, decided_at = $4, note = $5
     WHERE token_hash = $1 AND status = 'pending'`,
    [approvalTokenHash(data.token), data.approved ? 'approved' : 'rejected', data.by, data.at, data.note],
  );
}
