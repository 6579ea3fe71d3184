import { RunChanges } from './run-changes';
import type { EventStore } from '../event-store/event-store';
import type { Notifier } from '../event-store/notifier';

// `quietForMs` is what the projections' passes give way to (`SubscriptionRunner`'s `yieldTo`):
// how long this process has recorded nothing for any run. The store and the listener are not
// used by it.
describe('RunChanges.quietForMs', () => {
  const changes = () => new RunChanges({} as EventStore, {} as Notifier);

  it('is 0 while an append is in flight, and counts from its answer once none is', async () => {
    const runs = changes();
    let answer!: () => void;
    const append = runs.recording('run-1', () => new Promise<void>((resolve) => (answer = resolve)));
    expect(runs.quietForMs()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(runs.quietForMs()).toBe(0);
    answer();
    await append;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(runs.quietForMs()).toBeGreaterThanOrEqual(25);
  });

  it('counts a failed append as activity too', async () => {
    const runs = changes();
    await expect(runs.recording('run-1', () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(runs.quietForMs()).toBeLessThan(1_000);
  });

  it('is quiet for ever in a process that has recorded nothing', () => {
    expect(changes().quietForMs()).toBe(Infinity);
  });
});

// `runsRecording` tells a burst from latency-bound work: the group commit holds many runs' appends at once.
describe('RunChanges.runsRecording', () => {
  it('counts the runs with an append in flight, each once however many it has', async () => {
    const runs = new RunChanges({} as EventStore, {} as Notifier);
    const answers: (() => void)[] = [];
    const pending = () => new Promise<void>((resolve) => answers.push(resolve));
    const appends = [runs.recording('run-1', pending), runs.recording('run-1', pending), runs.recording('run-2', pending)];
    expect(runs.runsRecording()).toBe(2);
    answers.splice(0, 2).forEach((answer) => answer());
    await Promise.all(appends.slice(0, 2));
    expect(runs.runsRecording()).toBe(1);
    answers.splice(0).forEach((answer) => answer());
    await Promise.all(appends);
    expect(runs.runsRecording()).toBe(0);
  });
});
