import type { ClaimedRun, RunClaims } from '../run-queue/run-claims';
import type { WorkerSlots } from './worker-slots';

/** Slots a claim pass leaves free for the runs this process starts while its claim is in flight. */
const handOffReserve = (capacity: number) => Math.max(1, Math.ceil(capacity / 8));

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
  /** Slots the batch claim in flight took: runs only once it comes back with them. */
  private inFlight = 0;

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

  /**
   * Slots taken by the batch claim in flight, not yet filled. A pass takes seven eighths of the
   * free slots for the ms its claim takes, and most come back short: those slots are not busy.
   */
  get slotsClaiming(): number {
    return this.inFlight;
  }

  /** Claims one named run of `organizationId` whatever its `available_at` (its timer fired in this process). */
  async claimOne(runId: string, organizationId: string): Promise<void> {
    if (!this.hooks.canClaim() || this.hooks.isHeld(runId) || this.slots.take(1) === 0) return;
    let claim: ClaimedRun | undefined;
    try {
      claim = await this.claims.claimOne(runId, organizationId);
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
        // An eighth of the slots (one at least) stays out of the claim while it is in flight, so
        // runs started in this process meanwhile are handed over at once instead of queued; only
        // the reserve itself is claimed whole. One slot was too few: a webhook group commit starts
        // a run per delivery together, and each run it could not hand over was queued, claimed by
        // the next pass (which held the slots again) and recorded in a second commit — 15-30 % of
        // the runs under 32 concurrent senders.
        const free = this.slots.free;
        const reserve = handOffReserve(this.slots.capacity);
        const granted = this.slots.take(free > reserve ? free - reserve : free);
        this.shortOfSlots = true;
        if (granted === 0) break;
        let claimed: ClaimedRun[] = [];
        this.inFlight = granted;
        try {
          claimed = await this.claims.claimBatch(granted);
        } finally {
          this.inFlight = 0;
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
