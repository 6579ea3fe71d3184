import type { Queryable } from '../event-store/projection';
import { checkpointFrontierAtOrBefore } from './audit-rows';
import { TimeSlice } from '../http/time-slice';
import type { SealEntry } from './proof/chain-verifier';
import { GENESIS_CHAIN, digestOf, type Digest } from './proof/hash-chain';
import { MerkleFrontier } from './proof/merkle';
import { SEALABLE_COLUMNS, sealableOf, type SealableRow } from './sealable-events';

/** Seals are read in pages of this many: verification and export stay in constant memory. */
export const SEAL_PAGE = 5_000;

type EntryRow = Partial<SealableRow> & { sequence: string; sealed_position: string; leaf: Buffer; chain: Buffer };

/**
 * Seals `after < sequence ≤ through` in sequence order, each with its event as stored — or
 * none when the event is gone (a LEFT JOIN, so a deleted event shows up as a break).
 *
 * Each seal looks its event up by position (a lateral lookup the planner may not flatten: the
 * `LIMIT 1`). As a plain join, once `events` had statistics the planner hashed a page of 5,000
 * against a scan of every event (110,038 rows read for a 5,000-event range of a 100,000-event
 * history, audit-export-range.test.ts); joined within the page's span of positions instead, it
 * read no more rows but verified 17,963 events/s against 56,221 for the lookups (`npm run bench
 * -- audit`, the two forms one after the other).
 */
export async function readSealEntries(db: Queryable, organizationId: string, after: number, through: number, limit = SEAL_PAGE): Promise<SealEntry[]> {
  const { rows } = await db.query<EntryRow>(
    `SELECT s.sequence, s.global_position AS sealed_position, s.leaf, s.chain, e.*
     FROM audit_seals s LEFT JOIN LATERAL (
       SELECT ${SEALABLE_COLUMNS} FROM events e WHERE e.global_position = s.global_position LIMIT 1
     ) e ON true
     WHERE s.organization_id = $1 AND s.sequence > $2 AND s.sequence <= $3
     ORDER BY s.sequence LIMIT $4`,
    [organizationId, after, through, limit],
  );
  return rows.map((row) => ({
    sequence: Number(row.sequence),
    position: Number(row.sealed_position),
    leaf: digestOf(row.leaf),
    chain: digestOf(row.chain),
    event: row.global_position === null || row.global_position === undefined ? null : sealableOf(row as SealableRow),
  }));
}

/**
 * Every seal entry `after < sequence ≤ through`, page by page. Its consumers (verification,
 * export) hash or serialise each entry on the serving process's event loop: the entries come
 * in time slices (`TimeSlice`), so other requests are answered between them.
 */
export async function* sealEntries(db: Queryable, organizationId: string, after: number, through: number): AsyncGenerator<SealEntry> {
  const slice = new TimeSlice();
  for (let from = after; from < through; ) {
    const page = await readSealEntries(db, organizationId, from, through);
    if (page.length === 0) return;
    for (const entry of page) {
      if (slice.due()) await slice.giveWay();
      yield entry;
    }
    from = page[page.length - 1]?.sequence ?? through;
  }
}

/**
 * The chain value and Merkle frontier after `sequence` (genesis for 0): from the last checkpoint
 * at or before it that kept its frontier, the leaves after it replayed. A range exported from a
 * long history thus replays at most a checkpoint interval's leaves, not the whole history.
 */
export async function sealStateAfter(db: Queryable, organizationId: string, sequence: number): Promise<{ chain: Digest; frontier: MerkleFrontier }> {
  const checkpoint = sequence > 0 ? await checkpointFrontierAtOrBefore(db, organizationId, sequence) : undefined;
  const frontier = checkpoint ? MerkleFrontier.decode(checkpoint.sequence, checkpoint.merkleFrontier) : MerkleFrontier.empty();
  const slice = new TimeSlice();
  let chain: Digest = checkpoint?.chain ?? GENESIS_CHAIN;
  for (let from = checkpoint?.sequence ?? 0; from < sequence; ) {
    const { rows } = await db.query<{ sequence: string; leaf: Buffer; chain: Buffer }>(
      'SELECT sequence, leaf, chain FROM audit_seals WHERE organization_id = $1 AND sequence > $2 AND sequence <= $3 ORDER BY sequence LIMIT 50000',
      [organizationId, from, sequence],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      if (slice.due()) await slice.giveWay();
      frontier.append(digestOf(row.leaf));
    }
    const last = rows[rows.length - 1];
    if (last) [from, chain] = [Number(last.sequence), digestOf(last.chain)];
  }
  return { chain, frontier };
}
