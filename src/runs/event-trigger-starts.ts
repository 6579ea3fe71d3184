import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { RunRuleError } from '../domain/run/run.errors';
import { AppError } from '../errors';
import type { EventMetadata } from '../event-store/event';
import type { OrgEvent } from './org-events';
import { StartRunCommand } from './start-run.command';

/** A run a publication started: a workflow with a `trigger_event` block of the event's name. */
export interface TriggeredRun {
  workflowId: string;
  runId: string;
}

/** A workflow a publication could not start, and why (`workflow_not_runnable`, `invalid_input`, …). */
export interface RefusedStart {
  workflowId: string;
  error: string;
  message: string;
}

export interface TriggeredStarts {
  started: TriggeredRun[];
  refused: RefusedStart[];
}

/**
 * Starts the runs an organization event triggers: one per workflow whose enabled
 * `trigger_event` block names the event (`event_triggers`), the event as the run's input
 * `{eventId, name, correlationKey, payload}`, and the event as its actor. Each start carries the idempotency key
 * `event:<eventId>:<workflowId>`, so the publisher and a worker's sweep that delivers the same
 * event after the publisher crashed start each workflow once. A workflow that cannot start (not
 * runnable, an input its trigger's schema refuses) is answered as refused; the other workflows
 * start all the same.
 */
@Injectable()
export class EventTriggerStarts {
  private readonly log = new Logger('org-events');

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CommandBus) private readonly commands: CommandBus,
  ) {}

  async start(event: OrgEvent, metadata: EventMetadata): Promise<TriggeredStarts> {
    const { rows } = await this.pool.query<{ workflow_id: string }>(
      'SELECT workflow_id FROM event_triggers WHERE organization_id = $1 AND event_name = $2 ORDER BY workflow_id',
      [event.organizationId, event.name],
    );
    const input = { eventId: event.eventId, name: event.name, correlationKey: event.correlationKey, payload: event.payload };
    // The event is the run's actor, as a schedule or a webhook is; who published it is on the event.
    const runMetadata: EventMetadata = { ...metadata, actor: { type: 'event', id: event.eventId }, correlationId: event.eventId, causationId: event.eventId };
    const starts: TriggeredStarts = { started: [], refused: [] };
    for (const { workflow_id: workflowId } of rows) {
      try {
        const started = await this.commands.execute(new StartRunCommand(event.organizationId, workflowId, input, runMetadata, { idempotencyKey: `event:${event.eventId}:${workflowId}` }));
        starts.started.push({ workflowId, runId: started.runId });
      } catch (error) {
        if (!(error instanceof AppError || error instanceof RunRuleError)) throw error;
        this.log.warn({ eventId: event.eventId, workflowId, error: error.code }, 'an event trigger could not start its workflow');
        starts.refused.push({ workflowId, error: error.code, message: error.message });
      }
    }
    return starts;
  }
}
