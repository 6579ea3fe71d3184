import { createHash } from 'node:crypto';
import type { Queryable } from '../event-store/projection';
import { checkpointsBetween, firstCheckpointAtOrAfter, lastCheckpointAtOrBefore, listAuditKeys, sealedThrough } from './audit-rows';
import { BUNDLE_FORMAT, CHECKPOINTS_FILE, EVENTS_PER_FILE, eventsFile, jsonFile, jsonLine, KEYS_FILE, MANIFEST_FILE, manifestDigest, START_FILE, type BundleFile, type BundleStart } from './bundle/bundle-format';
import { tarEnd, tarEntry } from './bundle/tar';
import { digestHex } from './proof/hash-chain';
import { sealEntries, sealStateAfter } from './seal-reads';

export interface ExportRange {
  from?: Date;
  to?: Date;
}

/**
 * The organization's sealed events recorded in [from, to] as an audit bundle (a tar stream, see
 * `bundle-format.ts`), in constant memory: events are read a page at a time and written a file
 * of EVENTS_PER_FILE at a time. The range is contiguous in sequence and runs on to the next
 * checkpoint, so every exported event is covered by a signature; when no checkpoint signs the
 * range's end yet, it ends at the last one that does. What it reads
 * grows with the range (and a checkpoint interval before it), not with the organization's history.
 */
export async function* exportBundle(db: Queryable, organizationId: string, range: ExportRange): AsyncGenerator<Buffer> {
  const createdAt = new Date();
  const mtime = Math.floor(createdAt.getTime() / 1000);
  const head = await sealedThrough(db, organizationId);
  const { after, through } = await sequenceRange(db, organizationId, head, range);
  // Only what a checkpoint signs: an event after the last one (the newest, for up to a checkpoint
  // interval) would make the bundle fail verification (`unsigned_events`), so it waits for one.
  const coveredThrough = (await firstCheckpointAtOrAfter(db, organizationId, through))?.sequence ?? Math.max(after, (await lastCheckpointAtOrBefore(db, organizationId, through))?.sequence ?? 0);
  const files: BundleFile[] = [];
  const file = (name: string, contents: Buffer): Buffer[] => {
    files.push({ name, sha256: createHash('sha256').update(contents).digest('hex'), bytes: contents.length });
    return tarEntry(name, contents, mtime);
  };

  const state = await sealStateAfter(db, organizationId, after);
  const previous = await lastCheckpointAtOrBefore(db, organizationId, after);
  const start: BundleStart = {
    organizationId,
    afterSequence: after,
    throughSequence: coveredThrough,
    chain: digestHex(state.chain),
    merkleFrontier: state.frontier.encode().toString('hex'),
    previousCheckpoint: previous ? { number: previous.number, hash: previous.hash } : null,
    from: range.from?.toISOString() ?? null,
    to: range.to?.toISOString() ?? null,
  };
  yield* file(START_FILE, jsonFile(start));

  let lines: string[] = [];
  let index = 0;
  for await (const entry of sealEntries(db, organizationId, after, coveredThrough)) {
    // A deleted event cannot be exported as it was: the line carries null and verification names it.
    lines.push(jsonLine({ sequence: entry.sequence, leaf: digestHex(entry.leaf), chain: digestHex(entry.chain), event: entry.event }));
    if (lines.length === EVENTS_PER_FILE) {
      yield* file(eventsFile(++index), Buffer.from(lines.join('')));
      lines = [];
    }
  }
  if (lines.length > 0 || index === 0) yield* file(eventsFile(++index), Buffer.from(lines.join('')));

  const inRange = await checkpointsBetween(db, organizationId, after + 1, coveredThrough);
  yield* file(CHECKPOINTS_FILE, Buffer.from(inRange.map(jsonLine).join('')));
  const keys = (await listAuditKeys(db)).map(({ keyId, algorithm, publicKey }) => ({ keyId, algorithm, publicKey }));
  yield* file(KEYS_FILE, jsonFile(keys));
  const manifest = { format: BUNDLE_FORMAT, organizationId, createdAt: createdAt.toISOString(), files };
  yield* tarEntry(MANIFEST_FILE, jsonFile({ ...manifest, digest: manifestDigest(manifest) }), mtime);
  yield tarEnd();
}

/**
 * The sealed sequences whose events were recorded in [from, to]: `after < sequence ≤ through`.
 * Read off the seals' own record of their events' times, on its index: the seals in the range
 * only (the events were joined to every seal of the organization before migrations/0024).
 *
 * The seals in the range are aggregated from a subquery the planner keeps apart (`OFFSET 0`):
 * over the table itself, it could answer min and max by walking the sequence key from each end
 * until a seal's time fell in the range, and it took that plan whenever it guessed the range
 * held more than a few rows. A range in the middle of a long history then read the whole history
 * (97,902 rows for a range of 2,000 seals in audit-export-range.test.ts). Seals' times follow commit
 * order only roughly, so the range's ends are not found from the times' index alone either.
 */
async function sequenceRange(db: Queryable, organizationId: string, head: number, range: ExportRange): Promise<{ after: number; through: number }> {
  if (!range.from && !range.to) return { after: 0, through: head };
  const { rows } = await db.query<{ first: string | null; last: string | null }>(
    `SELECT min(sequence) AS first, max(sequence) AS last FROM (
       SELECT sequence FROM audit_seals
       WHERE organization_id = $1 AND sequence <= $2
         AND recorded_at >= coalesce($3::timestamptz, '-infinity') AND recorded_at <= coalesce($4::timestamptz, 'infinity')
       OFFSET 0) in_range`,
    [organizationId, head, range.from ?? null, range.to ?? null],
  );
  const first = rows[0]?.first;
  const last = rows[0]?.last;
  if (first == null || last == null) return { after: head, through: head };
  return { after: Number(first) - 1, through: Number(last) };
}
