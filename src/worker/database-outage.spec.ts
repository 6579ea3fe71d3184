import { DatabaseOutage } from './database-outage';

function recorder() {
  const lines: string[] = [];
  return { lines, log: { warn: (_: object, message: string) => void lines.push(message), log: (_: object, message: string) => void lines.push(message) } };
}

describe('DatabaseOutage', () => {
  it('paces every caller on one probe and logs the outage once at each end', async () => {
    const { lines, log } = recorder();
    let probes = 0;
    let up = false;
    const outage = new DatabaseOutage(async () => {
      probes += 1;
      if (!up) throw new Error('ECONNREFUSED');
    }, log, { minDelayMs: 5, maxDelayMs: 20, summaryEveryMs: 60_000 });
    const recovered = jest.fn();
    outage.onRecovered(recovered);

    for (let i = 0; i < 500; i += 1) outage.report(new Error('down'));
    const waiters = Array.from({ length: 64 }, () => outage.whenUp());
    await new Promise((resolve) => setTimeout(resolve, 100));
    const probesWhileDown = probes;
    up = true;
    await Promise.all(waiters);

    expect(outage.isDown).toBe(false);
    expect(probesWhileDown).toBeLessThan(20); // 100 ms at 5–20 ms per probe, not one per caller
    expect(lines).toEqual(['database unreachable: pausing run work until it answers again', 'database reachable again: resuming run work']);
    expect(recovered).toHaveBeenCalledTimes(1);
  });

  it('summarises an outage that goes on', async () => {
    const { lines, log } = recorder();
    const outage = new DatabaseOutage(() => Promise.reject(new Error('down')), log, { minDelayMs: 2, maxDelayMs: 4, summaryEveryMs: 20 });
    outage.report(new Error('down'));
    const summaries = () => lines.filter((line) => line === 'database still unreachable').length;
    // Until two summaries are out (~40 ms of outage), however late a loaded machine runs the timers.
    for (const deadline = Date.now() + 10_000; summaries() < 2 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 10));
    outage.stop();

    expect(lines[0]).toBe('database unreachable: pausing run work until it answers again');
    expect(summaries()).toBeGreaterThanOrEqual(2);
  });
});
