import type { ClaimedRun, RunClaims } from '../run-queue/run-claims';
import { ClaimPasses } from './claim-passes';
import { WorkerSlots } from './worker-slots';

/** A queue of `due` runs behind a fake `claimBatch` that counts its calls. */
function passesOver(due: number, capacity: number) {
  const queue = Array.from({ length: due }, (_, i): ClaimedRun => ({ runId: `run-${i}`, organizationId: 'org', streamVersion: 1, epoch: 1 }));
  let batches = 0;
  /** Free slots while each claim was in flight. */
  const freeDuringClaims: number[] = [];
  const claims = {
    claimBatch: async (limit: number) => {
      batches += 1;
      freeDuringClaims.push(slots.free);
      return queue.splice(0, limit);
    },
  } as unknown as RunClaims;
  const slots = new WorkerSlots(capacity);
  const adopted: string[] = [];
  const passes = new ClaimPasses(claims, slots, { canClaim: () => true, isHeld: () => false, adopt: (claim) => void adopted.push(claim.runId), failed: (error) => { throw error; } });
  return { passes, slots, adopted, batches: () => batches, freeDuringClaims };
}

describe('ClaimPasses', () => {
  it('does not query the queue when a slot frees after a pass that found it empty', async () => {
    const { passes, slots, adopted, batches } = passesOver(1, 8);
    passes.wake();
    await passes.whenDone();
    expect(adopted).toEqual(['run-0']);
    expect(batches()).toBe(1); // came back short: the queue is empty
    slots.give(); // the run ended
    passes.slotFreed();
    await passes.whenDone();
    expect(batches()).toBe(1);
  });

  it('claims again when a slot frees after a pass that filled every slot it had', async () => {
    const { passes, slots, adopted, batches } = passesOver(5, 2);
    passes.wake();
    await passes.whenDone();
    expect(adopted).toEqual(['run-0', 'run-1']);
    slots.give(); // one run ended
    passes.slotFreed();
    await passes.whenDone();
    expect(adopted).toEqual(['run-0', 'run-1', 'run-2']);
    expect(batches()).toBeGreaterThan(1);
  });

  it('leaves an eighth of the slots free while a claim is in flight, for a group of runs started in this process meanwhile', async () => {
    const { passes, adopted, batches, freeDuringClaims } = passesOver(500, 128);
    passes.wake();
    await passes.whenDone();
    expect(freeDuringClaims[0]).toBe(16); // 1 before: a webhook group of deliveries found one slot for its runs
    expect(adopted).toHaveLength(128); // the next claim takes the reserve whole: nothing is left idle
    expect(batches()).toBe(2);
  });
});
