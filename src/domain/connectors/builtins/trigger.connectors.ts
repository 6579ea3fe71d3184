import { z } from 'zod';
import { scheduleFields } from '../../schedule/schedule-params';
import { webhookFields } from '../../webhook/webhook-params';
import { defineConnector } from '../define-connector';

/**
 * The four builtin triggers. A trigger's output is the run input (`{{trigger.path}}` or
 * `{{<triggerId>.path}}`); at most one trigger per workflow (validation `multiple_triggers`).
 * The optional `inputSchema` param is a JSON Schema the run shell validates a run's input against.
 */
const triggerParams = z.object({
  inputSchema: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      'JSON Schema (draft 2020-12) the run input must satisfy; omit to accept any JSON object',
    ),
});

/** Any JSON object: the run input as sent. */
const triggerOutputs = z.looseObject({});

/** `trigger_manual`: runs started by `POST /api/workflows/:id/runs`. */
export const triggerManual = defineConnector({
  type: 'trigger_manual',
  name: 'Manual trigger',
  description: 'Starts a run when a client calls POST /api/workflows/:id/runs with an input.',
  category: 'trigger',
  kind: 'trigger',
  aliases: ['manual', 'start', 'trigger'],
  params: triggerParams,
  outputs: triggerOutputs,
});

/** `trigger_webhook`: runs started by a POST to the workflow's webhook URL. */
export const triggerWebhook = defineConnector({
  type: 'trigger_webhook',
  name: 'Webhook trigger',
  description:
    'Starts a run when JSON is POSTed to the workflow webhook URL (listed by GET /api/workflows/:id/webhooks). Trigger output: {body, headers, query, method, receivedAt}.',
  category: 'trigger',
  kind: 'trigger',
  aliases: ['webhook', 'http_trigger'],
  params: triggerParams.extend(webhookFields),
  outputs: triggerOutputs,
});

/** `trigger_schedule`: runs started by a schedule's cron ticks. */
export const triggerSchedule = defineConnector({
  type: 'trigger_schedule',
  name: 'Schedule trigger',
  description:
    'Starts a run at every tick of its cron (GET /api/schedules shows it). Trigger output: the schedule input plus {scheduleId, scheduledAt, lastScheduledAt, timezone}.',
  category: 'trigger',
  kind: 'trigger',
  aliases: ['cron', 'schedule', 'timer'],
  params: triggerParams.extend(scheduleFields),
  outputs: triggerOutputs,
});

/** The block type of an event trigger (`eventTriggerOf`). */
export const EVENT_TRIGGER_TYPE = 'trigger_event';

/** `trigger_event`: runs started by an organization event (`POST /api/events`) of its name. */
export const triggerEvent = defineConnector({
  type: EVENT_TRIGGER_TYPE,
  name: 'Event trigger',
  description:
    'Starts a run whenever an organization event named eventName is published (POST /api/events): once per event and workflow, also when a worker delivers an event whose publisher crashed. Trigger output: {eventId, name, correlationKey, payload}.',
  category: 'trigger',
  kind: 'trigger',
  aliases: ['event', 'on_event', 'event_trigger'],
  params: triggerParams.extend({
    eventName: z.string().min(1).max(200).describe('the event name that starts a run (as published: exact, case-sensitive)'),
  }),
  outputs: triggerOutputs,
});
