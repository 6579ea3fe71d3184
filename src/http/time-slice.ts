import { setImmediate as nextTurn } from 'node:timers/promises';

/** A CPU-bound loop gives way after this long on the event loop... */
const SLICE_MS = 5;
/** ...or after this many steps, whichever comes first (cheap steps cost a turn rarely; a bound that does not depend on the clock). */
const SLICE_STEPS = 256;

/**
 * Paces a long CPU-bound loop that runs on a serving process's event loop (recomputing an
 * organization's audit chain, exporting it): call `due()` once per step, and when it says so,
 * `giveWay()` lets the requests that arrived meanwhile take their turn (their I/O callbacks run
 * before the loop resumes). Without it, a verification of a 300,000-event trail held the event
 * loop for a page of 5,000 events at a time, and another organization's plain read took
 * 0.8-1.4 s while four such verifications ran.
 */
export class TimeSlice {
  private began = performance.now();
  private steps = 0;

  due(): boolean {
    this.steps += 1;
    return this.steps >= SLICE_STEPS || performance.now() - this.began >= SLICE_MS;
  }

  async giveWay(): Promise<void> {
    await nextTurn();
    this.began = performance.now();
    this.steps = 0;
  }
}
