import { START, type Checkpoint } from '../src/event-store/event';
import { EventStore } from '../src/event-store/event-store';
import { benchDatabase, rate, round } from './support';

const DURATION_MS = 3000;
const metadata = { actor: { type: 'system' as const, id: 'bench' } };

/**
 * Event store figures, all measured in one run on the same database: the raw commit baseline,
 * appends on one stream, appends over 16 concurrent streams (group commit), catch-up reads.
 */
export async function benchEventStore(): Promise<Record<string, unknown>> {
  const db = await benchDatabase();
  try {
    const one = db.pool(1);
    await one.query('CREATE TABLE bench_raw (id bigserial PRIMARY KEY, payload jsonb NOT NULL)');
    const payload = JSON.stringify({ n: 1, text: 'a small payload' });
    await rate(500, 1, () => one.query('INSERT INTO bench_raw (payload) VALUES ($1)', [payload])); // warm-up
    const rawInsertsPerSec = await rate(DURATION_MS, 1, () => one.query('INSERT INTO bench_raw (payload) VALUES ($1)', [payload]));

    const single = new EventStore(one, 'bench');
    const data = { n: 1, text: 'a small payload' };
    let version = 0;
    const singleStreamAppendsPerSec = await rate(DURATION_MS, 1, async () => {
      await single.append('bench-single', version, [{ type: 'Benched', data }], { organizationId: 'bench', metadata });
      version++;
    });

    const sixteen = new EventStore(db.pool(16), 'bench');
    const versions = new Array<number>(16).fill(0);
    const concurrentAppendsPerSec = await rate(DURATION_MS, 16, async (w) => {
      await sixteen.append(`bench-concurrent-${w}`, versions[w]!, [{ type: 'Benched', data }], { organizationId: 'bench', metadata });
      versions[w]!++;
    });

    const filler = new EventStore(db.pool(8), 'bench');
    const batch = Array.from({ length: 100 }, () => ({ type: 'Filled', data }));
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 125; i++) await filler.append(`bench-fill-${w}-${i}`, 0, batch, { organizationId: 'bench', metadata });
    }));
    const reader = new EventStore(db.pool(1), 'bench');
    let after: Checkpoint = START;
    let read = 0;
    const started = performance.now();
    for (let more = true; more; ) {
      const page = await reader.readAll(after, { limit: 5000 });
      const last = page.events.at(-1);
      if (last) after = { transactionId: last.transactionId, globalPosition: last.globalPosition };
      read += page.events.length;
      more = page.more;
    }
    const catchUpEventsPerSec = read / ((performance.now() - started) / 1000);

    return {
      benchmark: 'eventstore',
      database: db.embedded ? 'embedded' : 'DATABASE_URL',
      rawInsertCommitsPerSec: round(rawInsertsPerSec, 0),
      singleStreamAppendsPerSec: round(singleStreamAppendsPerSec, 0),
      concurrentStreams: 16,
      concurrentAppendsPerSec: round(concurrentAppendsPerSec, 0),
      catchUpEvents: read,
      catchUpEventsPerSec: round(catchUpEventsPerSec, 0),
      ratios: {
        singleStreamVsRaw: round(singleStreamAppendsPerSec / rawInsertsPerSec),
        concurrentVsSingleStream: round(concurrentAppendsPerSec / singleStreamAppendsPerSec),
      },
      targets: { singleStreamVsRaw: '>= 0.8', concurrentVsSingleStream: '>= 3', catchUpEventsPerSec: '>= 50000' },
    };
  } finally {
    await db.close();
  }
}
