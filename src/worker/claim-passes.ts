import type { ClaimedRun, RunClaims } from '../run-queue/run-claims';
import type { WorkerSlots } from './worker-slots';

/**
 * A worker's claims: batch passes sized to its free slots (one at a time, coalescing wake-ups),
 * and single claims of runs whose own timer fired. Slots are taken before a claim goes out and
 * the unused ones given back when it returns, so claims and hand-offs never overfill the worker.
 */
export class ClaimPasses {
  /** `again`: a wake-up came while a pass ran, so it runs once more. */
  private pass: 'idle' | 'running' | 'again' = 'idle';
  private done: Promise<void> = Promise.resolve();
  /**
   * The last pass may have left due runs behind: it filled every slot it had, had none, or
   * failed. Only then is a freed slot worth a claim; otherwise the queue was empty when the pass
   * looked, and anything due since was announced (a notification wakes a pass) or is the poll's.
   */
  private shortOfSlots = true;

  constructor(
    private readonly claims: RunClaims,
    private readonly slots: WorkerSlots,
    private readonly hooks: {
      /** Whether claiming is allowed now (not draining, the database answering). */
      canClaim(): boolean;
      isHeld(runId: string): boolean;
      /** Takes a claimed run; its slot is already taken. */
      adopt(claim: ClaimedRun): void;
      failed(error: unknown, message: string): void;
    },
  ) {}

  /** Runs a pass now, or once more after the one in flight. */
  wake(): void {
    if (!this.hooks.canClaim()) return;
    if (this.pass !== 'idle') {
      this.pass = 'again';
      return;
    }
    this.pass = 'running';
    this.done = this.run();
  }

  /** A slot was given back: claim again only when the last pass may have left runs behind. */
  slotFreed(): void {
    if (this.shortOfSlots) this.wake();
  }

  /** Resolves when the pass in flight (if any) has given back the slots it did not fill. */
  whenDone(): Promise<void> {
    return this.done;
  }

  /** Claims one named run whatever its `available_at` (its timer fired in this process). */
  async claimOne(runId: string): Promise<void> {
    if (!this.hooks.canClaim() || this.hooks.isHeld(runId) || this.slots.take(1) === 0) return;
    let claim: ClaimedRun | undefined;
    try {
      claim = await this.claims.claimOne(runId);
    } catch (error) {
      this.hooks.failed(error, 'could not claim a run whose timer fired');
    }
    if (claim && !this.hooks.isHeld(runId)) this.hooks.adopt(claim);
    else this.slots.give();
  }

  private async run(): Promise<void> {
    try {
      do {
        this.pass = 'running';
        // One slot stays out of the claim while it is in flight (unless it is the last), so a run
        // started in this process meanwhile is handed over at once instead of waiting for it.
        const granted = this.slots.take(Math.max(1, this.slots.free - 1));
        this.shortOfSlots = true;
        if (granted === 0) break;
        let claimed: ClaimedRun[] = [];
        try {
          claimed = await this.claims.claimBatch(granted);
        } finally {
          this.slots.give(granted - claimed.length);
        }
        claimed.forEach((claim) => this.hooks.adopt(claim));
        this.shortOfSlots = claimed.length === granted;
        if (claimed.length === granted) this.pass = 'again';
      } while (this.pass === 'again' && this.hooks.canClaim());
    } catch (error) {
      this.hooks.failed(error, 'claim pass failed');
    } finally {
      this.pass = 'idle';
    }
  }
}
