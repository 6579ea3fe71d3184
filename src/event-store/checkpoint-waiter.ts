import type { Queryable } from './projection';
import { compareCheckpoints, parseProgress, progressChannel, readCheckpoint, streamHead, wantedChannel } from './checkpoints';
import type { Checkpoint } from './event';
import type { Notifier } from './notifier';

/** Re-reads the checkpoint this often while waiting, in case a notification was lost. */
const FALLBACK_CHECK_MS = 250;

type Waiter = (projection: string, at: Checkpoint) => void;

/**
 * Lets a reader of an async projection wait, bounded, until the projection has applied a given
 * event — in any process: a waiter asks the runners for a pass now (the "wanted" channel: they
 * would otherwise wait out their pass gap), runners NOTIFY each checkpoint of an awaited
 * projection (`Projection.awaited`) on the progress channel, and the waiter also re-reads the
 * checkpoint now and then, so a lost notification only delays it. Nothing spins: between checks
 * it sleeps.
 */
export class CheckpointWaiter {
  private readonly waiters = new Set<Waiter>();
  private listening: Promise<void> | undefined;

  constructor(
    private readonly db: Queryable,
    /** The events channel (`EventStore.channel`); progress rides on `progressChannel(channel)`. */
    private readonly channel: string,
    private readonly notifier?: Notifier,
  ) {}

  /**
   * Resolves true once `projection` has applied the latest event of `streamId` (as it is when
   * called), false after `timeoutMs`. An empty stream is trivially covered.
   */
  async waitForStream(projection: string, streamId: string, timeoutMs: number): Promise<boolean> {
    const head = await streamHead(this.db, streamId);
    return head ? this.waitFor(projection, head, timeoutMs) : true;
  }

  /** Resolves true once the checkpoint of `projection` is at or after `target`, false after `timeoutMs`. */
  async waitFor(projection: string, target: Checkpoint, timeoutMs: number): Promise<boolean> {
    const covers = (at: Checkpoint) => compareCheckpoints(at, target) >= 0;
    if (covers(await readCheckpoint(this.db, projection))) return true;
    if (timeoutMs <= 0) return false;
    // Runners space their passes out under a stream of appends; a reader waiting asks for one now.
    void this.db.query('SELECT pg_notify($1, $2)', [wantedChannel(this.channel), JSON.stringify({ projection })]).catch(() => undefined);
    await this.listen();
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const finish = (covered: boolean) => {
        if (settled) return;
        settled = true;
        this.waiters.delete(waiter);
        clearTimeout(deadline);
        clearInterval(fallback);
        resolve(covered);
      };
      const waiter: Waiter = (name, at) => {
        if (name === projection && covers(at)) finish(true);
      };
      this.waiters.add(waiter);
      const deadline = setTimeout(() => finish(false), timeoutMs);
      const check = () => readCheckpoint(this.db, projection).then((at) => waiter(projection, at), () => undefined);
      const fallback = setInterval(() => void check(), FALLBACK_CHECK_MS);
      // The runner may have committed between the first read and the subscription.
      void check();
    });
  }

  private listen(): Promise<void> {
    this.listening ??= (this.notifier?.listen(progressChannel(this.channel), (payload) => {
      const progress = parseProgress(payload);
      if (progress) this.waiters.forEach((waiter) => waiter(progress.projection, progress.at));
    }) ?? Promise.resolve()).catch(() => undefined); // the handler stays registered; the re-reads cover the gap
    return this.listening;
  }
}
