/**
 * Samples of several subjects (stores, builds) gathered in blocks that take turns, so that this
 * VM's drift over minutes (more than 20 %) falls on every subject alike instead of on whichever
 * was measured last.
 */
export class SideBySide<Subject extends { label: string }> {
  constructor(
    private readonly subjects: Subject[],
    /** Blocks per subject: each figure's samples come in this many turns. */
    readonly rounds: number,
  ) {}

  /**
   * `count` timed calls of `op` per subject, in `rounds` blocks per subject that alternate
   * between the subjects, each subject's first block after a few untimed calls (warm-up). The
   * warm-up is in each subject's first block, so round 0 keeps the subjects' given order.
   * `around` wraps each block (e.g. a process started for it and closed after).
   */
  async measure(
    count: number,
    op: (subject: Subject, i: number) => Promise<unknown>,
    around: (subject: Subject, block: () => Promise<void>) => Promise<void> = (_s, block) => block(),
  ): Promise<Map<string, number[]>> {
    const taken = new Map(this.subjects.map((s) => [s.label, [] as number[]]));
    const perBlock = Math.ceil(count / this.rounds);
    for (let round = 0; round < this.rounds; round += 1) {
      // Each round starts with the next subject: a block's place in the round (right after a
      // given other, or first after a pause) must not fall on one subject every time.
      const order = [...this.subjects.slice(round % this.subjects.length), ...this.subjects.slice(0, round % this.subjects.length)];
      for (const subject of order) {
        await around(subject, async () => {
          if (round === 0) for (let i = 0; i < Math.min(20, perBlock); i += 1) await op(subject, -1 - i);
          for (let i = round * perBlock; i < Math.min(count, (round + 1) * perBlock); i += 1) {
            const began = performance.now();
            await op(subject, i);
            taken.get(subject.label)!.push(performance.now() - began);
          }
        });
      }
    }
    return taken;
  }
}
