import { handleCommand, type CommandSteps, type Loaded } from './command-runtime';
import { StreamVersionConflict } from './errors';

class Overdrawn extends Error {
  readonly code = 'overdrawn';
}

/** A counter stream in memory: `appendAt` fails like the event store when the version moved. */
function counter(opts: { concurrentWritesBefore?: number[] } = {}) {
  const stream: number[] = [];
  const concurrent = [...(opts.concurrentWritesBefore ?? [])];
  const log = { loads: 0, decided: [] as number[], appends: 0 };
  const appendAt = (version: number, events: number[]) => {
    log.appends++;
    const other = concurrent.shift();
    if (other !== undefined) stream.push(other); // another writer commits just before us
    if (stream.length !== version) throw new StreamVersionConflict('counter', version, stream.length);
    stream.push(...events);
    return stream.reduce((a, b) => a + b, 0);
  };
  const steps = (amount: number): CommandSteps<number, number[], number> => ({
    load: async () => {
      log.loads++;
      return { state: stream.reduce((a, b) => a + b, 0), version: stream.length };
    },
    decide: (total) => {
      log.decided.push(total);
      if (total + amount < 0) throw new Overdrawn(`cannot take ${-amount} from ${total}`);
      return [amount];
    },
    append: async (loaded: Loaded<number>, events) => appendAt(loaded.version, events),
  });
  return { stream, log, steps };
}

describe('handleCommand', () => {
  it('decides again on a fresh load when another writer appended first', async () => {
    const { stream, log, steps } = counter({ concurrentWritesBefore: [10] });
    await expect(handleCommand(steps(5), { attempts: 3 })).resolves.toBe(15);
    expect(log.loads).toBe(2);
    expect(log.decided).toEqual([0, 10]);
    expect(stream).toEqual([10, 5]);
  });

  it('tries again from a fresh load when Postgres broke a deadlock by failing the append (a 500 before)', async () => {
    const { stream, log, steps } = counter();
    const base = steps(5);
    let deadlocks = 1;
    const append: typeof base.append = async (loaded, events) => {
      if (deadlocks-- > 0) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      return base.append(loaded, events);
    };
    await expect(handleCommand({ ...base, append }, { attempts: 3 })).resolves.toBe(5);
    expect(log.loads).toBe(2);
    expect(stream).toEqual([5]);
  });

  it('throws a domain error from decide at once: one load, nothing appended', async () => {
    const { stream, log, steps } = counter();
    await expect(handleCommand(steps(-1), { attempts: 5 })).rejects.toBeInstanceOf(Overdrawn);
    expect(log).toEqual({ loads: 1, decided: [0], appends: 0 });
    expect(stream).toEqual([]);
  });

  it('a retried decision may become a domain error: the other writer changed the state', async () => {
    const { stream, log, steps } = counter({ concurrentWritesBefore: [-3] });
    stream.push(4);
    await expect(handleCommand(steps(-2), { attempts: 5 })).rejects.toBeInstanceOf(Overdrawn);
    expect(log.decided).toEqual([4, 1]);
    expect(stream).toEqual([4, -3]);
  });

  it('gives up after `attempts` tries with the last conflict', async () => {
    const { log, steps } = counter({ concurrentWritesBefore: [1, 1, 1] });
    await expect(handleCommand(steps(5), { attempts: 3 })).rejects.toMatchObject({ code: 'version_conflict', expectedVersion: 2, actualVersion: 3 });
    expect(log.loads).toBe(3);
  });

  it('does not retry other failures of the append', async () => {
    let appends = 0;
    const failing: CommandSteps<null, string[], void> = {
      load: async () => ({ state: null, version: 0 }),
      decide: () => ['E'],
      append: async () => {
        appends++;
        throw new Error('connection lost');
      },
    };
    await expect(handleCommand(failing, { attempts: 5 })).rejects.toThrow('connection lost');
    expect(appends).toBe(1);
  });

  it('returns an answer the load found (an idempotent replay) without deciding or appending', async () => {
    const decide = jest.fn();
    const append = jest.fn();
    const replayed = await handleCommand({ load: async () => ({ answered: 'first answer' }), decide, append }, { attempts: 2 });
    expect(replayed).toBe('first answer');
    expect(decide).not.toHaveBeenCalled();
    expect(append).not.toHaveBeenCalled();
  });
});
