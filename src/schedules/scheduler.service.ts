import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { nextPhase } from '../periodic';
import type { EventMetadata } from '../event-store/event';
import { schedulerOutlook } from './schedule-rows';
import { SchedulerPass } from './scheduler-pass';

const SCHEDULER: EventMetadata = { actor: { type: 'system', id: 'scheduler' } };
/** Never spin: at least this long between passes, even when a tick is due sooner. */
const MIN_SLEEP_MS = 5;
const MAX_BACKOFF_MS = 10_000;

/**
 * The scheduler loop every worker process runs: a pass (see `SchedulerPass`) when a schedule is due
 * or holds a buffered tick, then sleep until the earliest next fire time, at most the poll
 * interval (a schedule created meanwhile is seen by then). An idle loop costs one statement
 * (`schedulerOutlook`) instead of a pass's transaction of four and that statement. Any number of
 * these race safely. Never lets an error escape: it logs once per streak of failures and backs off.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('scheduler');
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(SchedulerPass) private readonly scheduler: SchedulerPass,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    // After the first pass, the loop keeps to a phase of its own (see `periodic.ts`), not to the
    // moment the process booted, which the other periodic tasks started from too.
    let phase: number | undefined = nextPhase(this.config.pollIntervalMs);
    while (this.running) {
      let sleepMs = phase ?? this.config.pollIntervalMs;
      phase = undefined;
      try {
        let outlook = await schedulerOutlook(this.pool);
        const now = new Date();
        if (outlook.buffered || (outlook.earliest !== null && outlook.earliest <= now)) {
          const result = await this.scheduler.pass(now, SCHEDULER);
          if (result.fired.length + result.skipped.length > 0) this.log.debug({ fired: result.fired.length, skipped: result.skipped.length }, 'scheduler pass');
          outlook = await schedulerOutlook(this.pool);
        }
        if (outlook.earliest) sleepMs = Math.min(sleepMs, Math.max(MIN_SLEEP_MS, outlook.earliest.getTime() - Date.now()));
        if (failures > 0) this.log.log({ failures }, 'scheduler pass succeeded again');
        failures = 0;
      } catch (error) {
        if (failures === 0) this.log.warn({ err: error }, 'scheduler pass failed; retrying with back-off');
        failures += 1;
        sleepMs = Math.min(MAX_BACKOFF_MS, this.config.pollIntervalMs * 2 ** Math.min(failures, 4));
      }
      await this.sleep(sleepMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
