import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { RunRuleError } from '../domain/run/run.errors';
import { RUN_FAILED_EVENT, SYSTEM_EVENT_PREFIX } from '../domain/run/system-events';
import { AppError } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { everyPeriod, type Periodic } from '../periodic';
import { PublishEventCommand } from '../runs/publish-event.command';

/** How often a worker looks for failures to announce (one indexed statement when there is none). */
const INTERVAL_MS = 1_000;
/** Failures announced per look. */
const BATCH = 50;
/**
 * Failures older than this are marked announced without a publication: news an announcer missed
 * for an hour (every worker down) is history by then, and its handlers would act on stale facts.
 */
const WINDOW_MS = 60 * 60 * 1000;

interface Failure {
  run_id: string;
  organization_id: string;
  workflow_id: string;
  workflow_version: number;
  error: unknown;
  failed_at: Date;
  /** The event that started the run, when one did (`trigger_event`): a system event's (`thodare.…`) run is not announced. */
  started_by: string | null;
  /** Whether a workflow of the organization starts on `thodare.run.failed`. */
  subscribed: boolean;
}

/**
 * Publishes each failed run (`run_failures`) as the organization event `thodare.run.failed`,
 * `{runId, workflowId, workflowVersion, error, failedAt}` with the workflow id as correlation key,
 * so a workflow with a `trigger_event` block on it handles failures (alerts, compensation) —
 * and a run waiting for it gets it. Only while a workflow of the organization starts on it: an
 * organization without one is not sent an event per failure. A run that a system event started
 * (a failure handler) is never announced, so a failing handler cannot start itself forever.
 * The publication's idempotency key is `run-failed:<runId>`: workers that race, or one that
 * crashed between publishing and marking, announce each failure once.
 */
@Injectable()
export class RunFailureAnnouncer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('run-failures');
  private timer: Periodic | undefined;
  private running: Promise<void> | undefined;
  /** Looks that failed in a row: logged at the first and every minute after (a database outage fails every look). */
  private failures = 0;

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CommandBus) private readonly commands: CommandBus,
  ) {}

  onApplicationBootstrap(): void {
    // Unref'd: the announcer never keeps a process alive on its own (shutdown clears it anyway).
    this.timer = everyPeriod(INTERVAL_MS, () => void this.tick(), { unref: true });
  }

  async onModuleDestroy(): Promise<void> {
    this.timer?.stop();
    await this.running;
  }

  /** One look, unless one is under way. */
  private tick(): void {
    this.running ??= this.announce()
      .then(() => {
        this.failures = 0;
      })
      .catch((error: unknown) => {
        if (this.failures++ % 60 === 0) this.log.warn({ err: error, failures: this.failures }, 'could not announce run failures; retrying');
      })
      .finally(() => (this.running = undefined));
  }

  /** Announces the failures not announced yet, `BATCH` at a time, oldest first; how many it handled. */
  async announce(): Promise<number> {
    let handled = 0;
    for (;;) {
      const failures = await this.unannounced();
      for (const failure of failures) await this.announceOne(failure);
      handled += failures.length;
      if (failures.length < BATCH) return handled;
    }
  }

  private async unannounced(): Promise<Failure[]> {
    const { rows } = await this.pool.query<Failure>(
      `SELECT f.run_id, f.organization_id, r.workflow_id, r.workflow_version, f.error, f.failed_at,
              (SELECT e.data->'input'->>'name' FROM events e
               WHERE e.stream_id = 'run-' || f.run_id AND e.stream_version = 1 AND e.metadata->'actor'->>'type' = 'event') AS started_by,
              EXISTS (SELECT 1 FROM event_triggers t WHERE t.organization_id = f.organization_id AND t.event_name = $1) AS subscribed
       FROM run_failures f JOIN run_state r ON r.run_id = f.run_id
       WHERE f.announced_at IS NULL ORDER BY f.failed_at LIMIT $2`,
      [RUN_FAILED_EVENT, BATCH],
    );
    return rows;
  }

  private async announceOne(failure: Failure): Promise<void> {
    const news = failure.subscribed && !failure.started_by?.startsWith(SYSTEM_EVENT_PREFIX) && Date.now() - failure.failed_at.getTime() <= WINDOW_MS;
    if (news) {
      const metadata: EventMetadata = { actor: { type: 'system', id: 'run-failure-announcer' }, correlationId: failure.run_id, causationId: failure.run_id };
      const payload = { runId: failure.run_id, workflowId: failure.workflow_id, workflowVersion: failure.workflow_version, error: failure.error, failedAt: failure.failed_at.toISOString() };
      const event = { name: RUN_FAILED_EVENT, correlationKey: failure.workflow_id, payload, idempotencyKey: `run-failed:${failure.run_id}` };
      await this.commands.execute(new PublishEventCommand(failure.organization_id, event, metadata)).catch((error: unknown) => {
        // A publication refused for its content would be refused on every look: pass it over
        // rather than hold every later failure behind it. Anything else (the database) is retried.
        if (!(error instanceof AppError || error instanceof RunRuleError)) throw error;
        this.log.warn({ runId: failure.run_id, error: error.code }, 'a run failure could not be announced; passed over');
      });
    }
    await this.pool.query('UPDATE run_failures SET announced_at = now() WHERE run_id = $1', [failure.run_id]);
  }
}
