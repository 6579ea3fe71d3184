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
  private readonly queue: T[] = [];
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

  /**
   * The next group: up to `maxSize` queued items with different keys, oldest first. Reads the
   * queue only as far as the group fills (a burst can queue thousands); a skipped twin keeps its
   * place at the head.
   */
  private take(): T[] {
    const group: T[] = [];
    const keys = new Set<string>();
    const twins: T[] = [];
    let read = 0;
    for (; read < this.queue.length && group.length < this.options.maxSize; read += 1) {
      const item = this.queue[read]!;
      const key = this.options.keyOf(item);
      if (keys.has(key)) twins.push(item);
      else {
        keys.add(key);
        group.push(item);
      }
    }
    this.queue.splice(0, read, ...twins);
    return group;
  }
}
