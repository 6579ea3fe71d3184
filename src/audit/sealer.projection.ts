import { TimeSlice } from '../http/time-slice';
import type { Projection, Queryable } from '../event-store/projection';
import type { RecordedEvent } from '../event-store/event';
import { recordsOf } from '../database/json-records';
import { GENESIS_CHAIN, digestHex, digestOf, leafOf, nextChain, type Digest } from './proof/hash-chain';
import { MerkleFrontier } from './proof/merkle';

/** A seal's columns besides its hashes, as `json_to_recordset` reads them. */
interface SealRow {
  organization_id: string;
  sequence: number;
  global_position: number;
  recorded_at: string;
}

interface Head {
  sequence: number;
  chain: Digest;
  frontier: MerkleFrontier;
}

/**
 * The sealer: an async projection over every event, in commit order below the xid horizon (the
 * subscription runner's guarantee), so each organization's sequence is gap-free and no late
 * commit is ever skipped or sealed twice. One batch = one transaction holding the projection's
 * advisory lock with its checkpoint, so a second sealer waits, and a sealer killed mid-batch
 * leaves nothing behind for the next one to duplicate. Appends never wait for it.
 */
export const auditSealerProjection: Projection = {
  name: 'audit_sealer',
  mode: 'async',
  handles: 'all',
  tables: ['audit_seals', 'audit_heads'],
  // Sealing lag stays well under a second although plain appends notify nobody.
  pollIntervalMs: 250,
  // Under a busy worker its passes wait up to 0.8 s for a quiet moment (the other read models,
  // which name no bound, wait up to 2 s): with its pass after it, still under the second (issue
  // 11, `npm run bench -- audit`), and a burst's seals reach past the latency-bound runs that
  // often follow it. At 0.5 s they fell on them in the peers harness (serial p99 54-78 against
  // 8-9 ms, in process).
  maxYieldMs: 800,
  apply: (db, event) => sealBatch(db, [event]),
  applyBatch: sealBatch,
};

async function sealBatch(db: Queryable, events: readonly RecordedEvent[]): Promise<void> {
  const heads = await readHeads(db, [...new Set(events.map((e) => e.organizationId))]);
  // recorded_at: the event's time at full precision, by which an export finds a range's seals.
  const seals = { rows: [] as SealRow[], leaves: [] as Digest[], chains: [] as Digest[] };
  // Hashed in time slices (`TimeSlice`): a batch of thousands hashed at once held the process's
  // runs up for up to ~100 ms (the worker shares the thread). A count of 250 events a turn was
  // ~5 ms warm but 7 ms and more in a fresh process, where an event's hashing takes ~30 µs.
  const slice = new TimeSlice();
  for (const event of events) {
    if (slice.due()) await slice.giveWay();
    const head = heads.get(event.organizationId) ?? { sequence: 0, chain: GENESIS_CHAIN, frontier: MerkleFrontier.empty() };
    const leaf = leafOf({
      position: event.globalPosition,
      streamId: event.streamId,
      streamVersion: event.streamVersion,
      organizationId: event.organizationId,
      type: event.type,
      data: event.data,
      metadata: event.metadata,
      recordedAt: event.recordedAtExact,
    });
    head.sequence += 1;
    head.chain = nextChain(head.chain, leaf);
    head.frontier.append(leaf);
    heads.set(event.organizationId, head);
    seals.rows.push({ organization_id: event.organizationId, sequence: head.sequence, global_position: event.globalPosition, recorded_at: event.recordedAtExact });
    seals.leaves.push(leaf);
    seals.chains.push(head.chain);
  }
  // Hashes travel as one concatenated hex text each (64 digits a seal), decoded once: far cheaper
  // to encode and parse than a bytea[] literal of a thousand elements. The other columns go as one
  // JSON text, the rows built in that form above rather than copied per event through `recordsOf`
  // (as the heads below are): no arrays nor Buffers, which pg's serializer is deoptimised by.
  await db.query(
    `WITH hashes AS (SELECT decode($2, 'hex') AS leaves, decode($3, 'hex') AS chains)
     INSERT INTO audit_seals (organization_id, sequence, global_position, leaf, chain, recorded_at)
     SELECT s.organization_id, s.sequence, s.global_position, substring(h.leaves FROM (s.i * 32 - 31)::int FOR 32), substring(h.chains FROM (s.i * 32 - 31)::int FOR 32), s.recorded_at
     FROM hashes h, ROWS FROM (json_to_recordset($1::json) AS (organization_id text, sequence bigint, global_position bigint, recorded_at timestamptz))
       WITH ORDINALITY AS s(organization_id, sequence, global_position, recorded_at, i)`,
    [JSON.stringify(seals.rows), digestHex(seals.leaves.join('')), digestHex(seals.chains.join(''))],
  );
  const touched = [...heads].map(([organizationId, head]) => ({ organizationId, sequence: head.sequence, chain: digestHex(head.chain), merkleFrontier: head.frontier.encode().toString('hex') }));
  await db.query(
    `INSERT INTO audit_heads (organization_id, sequence, chain, merkle_frontier)
     SELECT h.organization_id, h.sequence, decode(h.chain, 'hex'), decode(h.merkle_frontier, 'hex')
     FROM json_to_recordset($1::json) AS h(organization_id text, sequence bigint, chain text, merkle_frontier text)
     ON CONFLICT (organization_id) DO UPDATE SET sequence = excluded.sequence, chain = excluded.chain, merkle_frontier = excluded.merkle_frontier`,
    [recordsOf(touched, ['organizationId', 'sequence', 'chain', 'merkleFrontier'])],
  );
}

async function readHeads(db: Queryable, organizations: string[]): Promise<Map<string, Head>> {
  const { rows } = await db.query<{ organization_id: string; sequence: string; chain: Buffer; merkle_frontier: Buffer }>(
    'SELECT organization_id, sequence, chain, merkle_frontier FROM audit_heads WHERE organization_id = ANY($1::text[])',
    [organizations],
  );
  return new Map(
    rows.map((row) => {
      const sequence = Number(row.sequence);
      return [row.organization_id, { sequence, chain: digestOf(row.chain), frontier: MerkleFrontier.decode(sequence, row.merkle_frontier) }];
    }),
  );
}
