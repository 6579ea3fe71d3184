import { handleCommand, handleCommandInTransaction } from '../../src/event-store/command-runtime';
import { EventStore } from '../../src/event-store/event-store';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { systemMetadata } from '../support/metadata';

const organizationId = 'org-runtime';
const opts = { organizationId, metadata: systemMetadata };
let db: TestDatabase;
let store: EventStore;

beforeAll(async () => {
  db = await createTestDatabase('command_runtime');
  store = new EventStore(db.pool, `${db.schema}.events`);
  await db.pool.query('CREATE TABLE side_rows (stream_id text NOT NULL, note text NOT NULL)');
});
afterAll(() => db.drop());

class Refused extends Error {
  readonly code = 'refused';
}

const typesOf = async (streamId: string) => (await store.readStream(streamId)).map((e) => e.type);
const sideRows = async (streamId: string) => (await db.pool.query('SELECT note FROM side_rows WHERE stream_id = $1', [streamId])).rows.map((r) => r.note);

describe('the command runtime against the event store', () => {
  it('retries a conflicting append from a fresh load', async () => {
    const streamId = 'counter-1';
    await store.append(streamId, 0, [{ type: 'Opened', data: {} }], opts);
    const seen: number[] = [];
    let interfere = true;
    const result = await handleCommand(
      {
        load: async () => {
          const version = await store.streamVersion(streamId);
          if (interfere) {
            interfere = false;
            await store.append(streamId, version, [{ type: 'ByAnotherWriter', data: {} }], opts);
          }
          return { state: version, version };
        },
        decide: (version) => {
          seen.push(version);
          return [{ type: 'Ours', data: { after: version } }];
        },
        append: async (loaded, events) => (await store.append(streamId, loaded.version, events, opts)).nextVersion,
      },
      { attempts: 3 },
    );
    expect(seen).toEqual([1, 2]);
    expect(result).toBe(3);
    expect(await typesOf(streamId)).toEqual(['Opened', 'ByAnotherWriter', 'Ours']);
  });

  it('in a transaction, rolls back the failed attempt’s other writes with it', async () => {
    const streamId = 'counter-2';
    let attempt = 0;
    await handleCommandInTransaction(
      db.pool,
      (client) => ({
        load: async () => {
          attempt++;
          const version = await store.streamVersion(streamId, client);
          // Another writer commits between our load and our append, on the first attempt only.
          if (attempt === 1) await store.append(streamId, version, [{ type: 'ByAnotherWriter', data: {} }], opts);
          return { state: attempt, version };
        },
        decide: (n) => [{ type: 'Ours', data: { attempt: n } }],
        append: async (loaded, events) => {
          await client.query('INSERT INTO side_rows VALUES ($1, $2)', [streamId, `attempt ${loaded.state}`]);
          await store.append(streamId, loaded.version, events, { ...opts, client });
        },
      }),
      { attempts: 3 },
    );
    expect(await typesOf(streamId)).toEqual(['ByAnotherWriter', 'Ours']);
    expect(await sideRows(streamId)).toEqual(['attempt 2']);
  });

  it('throws a domain error at once: nothing appended, nothing written, no second load', async () => {
    const streamId = 'counter-3';
    let loads = 0;
    const refused = handleCommandInTransaction(
      db.pool,
      (client) => ({
        load: async () => {
          loads++;
          await client.query('INSERT INTO side_rows VALUES ($1, $2)', [streamId, 'written during the load']);
          return { state: null, version: 0 };
        },
        decide: (): never => {
          throw new Refused('no');
        },
        append: async () => {
          throw new Error('never called');
        },
      }),
      { attempts: 5 },
    );
    await expect(refused).rejects.toBeInstanceOf(Refused);
    expect(loads).toBe(1);
    expect(await typesOf(streamId)).toEqual([]);
    expect(await sideRows(streamId)).toEqual([]);
  });
});
