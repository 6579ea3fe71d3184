/**
 * The worker's slots (`THODARE_WORKER_SLOTS`): a slot is one run held. A slot is taken BEFORE
 * the claim that fills it goes to the database, and given back when the claim comes back short
 * or the run leaves, so concurrent claim passes, timer claims and in-process hand-offs can never
 * hold more runs than there are slots together.
 */
export class WorkerSlots {
  private taken = 0;

  constructor(readonly capacity: number) {}

  get free(): number {
    return this.capacity - this.taken;
  }

  get inUse(): number {
    return this.taken;
  }

  /** Takes up to `wanted` slots; returns how many were taken. */
  take(wanted: number): number {
    const granted = Math.max(0, Math.min(wanted, this.free));
    this.taken += granted;
    return granted;
  }

  /** Gives `count` slots back. */
  give(count = 1): void {
    this.taken = Math.max(0, this.taken - count);
  }
}
