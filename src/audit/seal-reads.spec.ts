import type { Queryable } from '../event-store/projection';
import { digestOf } from './proof/hash-chain';
import { sealEntries, sealStateAfter } from './seal-reads';

// A verification or an export of an audit trail runs on a serving process's event loop. With a
// database that answers at once (as a warm one nearly does), nothing in a page of 5,000 entries
// returned to the event loop before: every other request waited for the whole page. The entries
// now come in slices, each ending with a turn of the event loop.

/** Seals as a store would return them, as many as asked for (their events deleted: the cheapest rows), and no checkpoints. */
function sealsTable(): Queryable {
  const query = async (text: string, values: unknown[]) => {
    if (text.includes('audit_checkpoints')) return { rows: [] };
    const [, after, through, limit] = values as [string, number, number, number | undefined];
    const rows = [];
    for (let sequence = after + 1; sequence <= Math.min(through, after + (limit ?? 50_000)); sequence += 1) {
      rows.push({ sequence: String(sequence), sealed_position: String(sequence), leaf: Buffer.alloc(32, 1), chain: Buffer.alloc(32, 2), global_position: null });
    }
    return { rows };
  };
  return { query } as unknown as Queryable;
}

/** Runs `work` and counts the turns the event loop took meanwhile. */
async function turnsDuring(work: () => Promise<void>): Promise<number> {
  let turns = 0;
  let spinning = true;
  const spin = () => {
    if (!spinning) return;
    turns += 1;
    setImmediate(spin);
  };
  setImmediate(spin);
  await work();
  spinning = false;
  return turns;
}

it('hands out seal entries in slices that each give the event loop a turn', async () => {
  const db = sealsTable();
  let read = 0;
  const turns = await turnsDuring(async () => {
    for await (const entry of sealEntries(db, 'org', 0, 12_000)) read = entry.sequence;
  });
  expect(read).toBe(12_000);
  expect(turns).toBeGreaterThanOrEqual(Math.floor(12_000 / 256) - 1); // 0 before
});

it('rebuilds the seal state up to a sequence in slices too', async () => {
  const db = sealsTable();
  const turns = await turnsDuring(async () => {
    const state = await sealStateAfter(db, 'org', 60_000);
    expect(state.chain).toBe(digestOf(Buffer.alloc(32, 2)));
  });
  expect(turns).toBeGreaterThanOrEqual(Math.floor(60_000 / 256) - 1);
});
