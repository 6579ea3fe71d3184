import { z } from 'zod';
import { defineConnector } from '../define-connector';

/**
 * Durable waits. They declare params and outputs only: the runtime executes them (timers,
 * stored signals/events, approval tokens), never a `run` function.
 */
const MAX_WAIT_MS = 366 * 24 * 60 * 60 * 1000;
const waitMs = z.number().int().min(1).max(MAX_WAIT_MS);

/** `wait_duration`: a durable timer. */
export const waitDuration = defineConnector({
  type: 'wait_duration',
  name: 'Wait for a duration',
  description:
    'Pauses the run durably for durationMs milliseconds (up to 366 days). Output: {sleptUntil, resumedAt}.',
  category: 'wait',
  kind: 'wait',
  aliases: ['sleep', 'delay', 'wait', 'pause'],
  params: z.object({ durationMs: waitMs.describe('How long to wait, in milliseconds') }),
  outputs: z.object({
    sleptUntil: z.string().describe('ISO-8601 time the timer was due'),
    resumedAt: z.string().describe('ISO-8601 time the run actually resumed (at or after sleptUntil)'),
  }),
});

/** `wait_for_event`: resumes on a matching event or run signal, or times out. */
export const waitForEvent = defineConnector({
  type: 'wait_for_event',
  name: 'Wait for an event',
  description:
    'Pauses until an event with this name (and correlation key, when given) arrives via POST /api/events or a run signal, or until timeoutMs. Output: {data, timedOut}.',
  category: 'wait',
  kind: 'wait',
  aliases: ['wait_for_signal', 'signal', 'event'],
  params: z.object({
    eventName: z.string().min(1).max(200),
    correlationKey: z.string().min(1).max(500).optional(),
    timeoutMs: waitMs
      .optional()
      .describe('Give up after this many milliseconds; output timedOut: true'),
  }),
  outputs: z.object({
    data: z.unknown().describe('The event payload; null when timed out'),
    timedOut: z.boolean(),
  }),
});

/** `human_approval`: resumes on a decision through a single-use approval token, or times out. */
export const humanApproval = defineConnector({
  type: 'human_approval',
  name: 'Human approval',
  description:
    'Pauses until a person approves or rejects via a single-use approval link, or until timeoutMs. Output: {approved, by, note, timedOut}.',
  category: 'wait',
  kind: 'wait',
  aliases: ['approval', 'approve', 'review'],
  params: z.object({
    prompt: z.string().min(1).max(4000).describe('What the approver is asked'),
    timeoutMs: waitMs.optional(),
  }),
  outputs: z.object({
    approved: z.boolean(),
    by: z.string().nullable(),
    note: z.string().nullable(),
    timedOut: z.boolean(),
  }),
});
