/**
 * Counts what is in progress, per key (an organization) and in total, and admits one more only
 * while both counts stay under their limits. In-process: each instance counts its own.
 */
export class ConcurrencyLimit {
  private readonly byKey = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly perKey: number,
    private readonly overall: number,
  ) {}

  /** One more for `key`, or undefined at either limit. Calling the answer gives it back (once; later calls do nothing). */
  tryTake(key: string): (() => void) | undefined {
    const held = this.byKey.get(key) ?? 0;
    if (held >= this.perKey || this.total >= this.overall) return undefined;
    this.byKey.set(key, held + 1);
    this.total += 1;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.total -= 1;
      const left = (this.byKey.get(key) ?? 1) - 1;
      if (left > 0) this.byKey.set(key, left);
      else this.byKey.delete(key);
    };
  }

  /** In progress now: for one key, or in total. */
  count(key?: string): number {
    return key === undefined ? this.total : (this.byKey.get(key) ?? 0);
  }
}
