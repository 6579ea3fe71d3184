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
