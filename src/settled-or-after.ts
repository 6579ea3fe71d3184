/**
 * Once `work` settles (rejecting as it does), or `ms` have passed, whichever is first. The timer
 * goes with the race: left running, it would keep the process alive after the work is done (a
 * worker's drain that ended early held an embedding application's process open after `close()`
 * for the rest of the shutdown deadline).
 */
export async function settledOrAfter(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
