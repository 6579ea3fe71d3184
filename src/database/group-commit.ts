import { classifyDatabaseError } from './pg-errors';

/** How a `GroupCommit` writes its items: together, or (after a failed group) each alone. */
export interface GroupWriter<T> {
  /** Writes a group (sorted by key) together and settles each item; throws when the group failed as a whole. */
  together(group: T[]): Promise<void>;
  /** Writes one item alone and settles it; never throws. */
  alone(item: T): Promise<void>;
}

/**
 * Application-level group commit: what is submitted while every group slot is busy waits for the
 * next group, which takes everything queued meanwhile. Under load many writers share one
 * transaction (and its statements and commit); a lone item goes out at once (after the current
 * turn of the event loop, so items decided together travel together). Items with the same key
 * never share a group: one statement decides a group's items together, so the second of two
 * writes that depend on each other waits for a later group. A group is sorted by key, so
 * concurrent groups lock what their items share in one order. When a group fails (a concurrent
 * writer on one of its items, an item the database refuses), its items are written one by one,
 * so each gets its own outcome; when the database is away, every item fails with that error
 * (each outcome is the same unknown: no point trying each).
 */
export class GroupCommit<T extends { reject: (error: unknown) => void }> {
  private readonly queue: T[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly writer: GroupWriter<T>,
    private readonly options: { maxInFlight: number; maxSize: number; keyOf: (item: T) => string },
  ) {}

  /** Nothing queued, scheduled or in flight. */
  get idle(): boolean {
    return this.inFlight === 0 && !this.scheduled && this.queue.length === 0;
  }

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

  private async write(group: T[]): Promise<void> {
    const keyOf = this.options.keyOf;
    group.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
    try {
      await this.writer.together(group);
    } catch (error) {
      if (classifyDatabaseError(error) === 'unavailable') return group.forEach((item) => item.reject(error));
      await Promise.all(group.map((item) => this.writer.alone(item)));
    }
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
