/**
 * Application-level group commit: what is submitted while every group slot is busy waits for the
 * next group, which takes everything queued meanwhile. Under load many writers share one
 * transaction (and its statements and commit); a lone item goes out at once (after the current
 * turn of the event loop, so items decided together travel together). Items with the same key
 * never share a group: one statement decides a group's items together, so the second of two
 * writes that depend on each other waits for the next group. `write` settles each item itself
 * and must not throw.
 */
export class GroupCommit<T> {
  private queue: T[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly write: (group: T[]) => Promise<void>,
    private readonly options: { maxInFlight: number; maxSize: number; keyOf: (item: T) => string },
  ) {}

  submit(item: T): void {
    this.queue.push(item);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
        const group = this.take();
        this.inFlight += 1;
        void this.write(group).finally(() => {
          this.inFlight -= 1;
          this.schedule();
        });
      }
    });
  }

  /** The next group: up to `maxSize` queued items with different keys, oldest first. */
  private take(): T[] {
    const group: T[] = [];
    const keys = new Set<string>();
    const rest: T[] = [];
    for (const item of this.queue) {
      const key = this.options.keyOf(item);
      if (group.length < this.options.maxSize && !keys.has(key)) {
        keys.add(key);
        group.push(item);
      } else rest.push(item);
    }
    this.queue = rest;
    return group;
  }
}
