import type { Connector } from '../connector';
import { condition } from './condition.connector';
import { transform } from './transform.connector';
import { triggerEvent, triggerManual, triggerSchedule, triggerWebhook } from './trigger.connectors';
import { humanApproval, waitDuration, waitForEvent } from './wait.connectors';

/** The builtins that do no I/O (http_request and slack_send_message live in src/connectors). */
export function pureBuiltinConnectors(): Connector[] {
  return [
    triggerManual,
    triggerWebhook,
    triggerSchedule,
    triggerEvent,
    transform,
    condition,
    waitDuration,
    waitForEvent,
    humanApproval,
  ] as Connector[];
}
