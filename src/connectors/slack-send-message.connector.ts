import { z } from 'zod';
import { ConnectorError } from '../domain/connectors/connector-error';
import { defineConnector } from '../domain/connectors/define-connector';
import { hidden } from '../domain/connectors/visibility';
import { isJsonContentType, readCappedBody } from './read-capped-body';

export interface SlackOptions {
  /** Slack Web API base URL (default https://slack.com/api); a fake server in tests. */
  baseUrl?: string;
  /** Per-call timeout in milliseconds (default 15 s). */
  timeoutMs?: number;
}

/** Slack errors that will not go away by retrying. */
const PERMANENT = [
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'msg_too_long',
  'no_text',
  'invalid_blocks',
  'missing_scope',
  'restricted_action',
];

const params = z.object({
  channel: z.string().min(1).max(200).describe('Channel id (C…) or name (#general)'),
  text: z
    .string()
    .min(1)
    .max(40_000)
    .describe('Message text (mrkdwn); also the notification fallback when blocks are sent'),
  blocks: z
    .array(z.record(z.string(), z.unknown()))
    .max(50)
    .optional()
    .describe('Block Kit blocks'),
  threadTs: z.string().optional().describe('Reply in the thread of this message ts'),
  botToken: hidden(z.string().min(1)),
});

/**
 * `slack_send_message`: Slack `chat.postMessage`. The bot token is a hidden param filled from
 * the organization secret SLACK_BOT_TOKEN; Slack's `{ok: false, error}` fails the step
 * (retryable unless the error is permanent, e.g. `channel_not_found`).
 */
export function createSlackSendMessageConnector(options: SlackOptions = {}) {
  const endpoint = `${(options.baseUrl ?? 'https://slack.com/api').replace(/\/+$/, '')}/chat.postMessage`;
  const timeoutMs = options.timeoutMs ?? 15_000;
  return defineConnector({
    type: 'slack_send_message',
    name: 'Send a Slack message',
    description:
      'Posts a message to a Slack channel with chat.postMessage as the organization bot. Output: {ok, channel, ts}.',
    category: 'messaging',
    kind: 'action',
    aliases: ['slack', 'slack_message', 'send_slack', 'post_to_slack', 'notify_slack'],
    params,
    outputs: z.object({
      ok: z.boolean(),
      channel: z.string(),
      ts: z.string().describe('Message timestamp (its id)'),
    }),
    secrets: { botToken: 'SLACK_BOT_TOKEN' },
    retry: {
      maxAttempts: 4,
      initialIntervalMs: 1_000,
      backoffCoefficient: 2,
      maxIntervalMs: 30_000,
      nonRetryableErrors: ['slack_error_permanent'],
    },
    timeoutMs,
    overridable: {
      retry: { maxAttempts: { min: 1, max: 8 }, intervalMs: { min: 0, max: 600_000 } },
      timeoutMs: { min: 1_000, max: 120_000 },
    },
    run: async (input, ctx) => {
      const payload: Record<string, unknown> = { channel: input.channel, text: input.text };
      if (input.blocks) payload.blocks = input.blocks;
      if (input.threadTs) payload.thread_ts = input.threadTs;
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${input.botToken}`,
            'content-type': 'application/json; charset=utf-8',
          },
          body: JSON.stringify(payload),
          // The runtime aborts ctx.signal after the step's timeoutMs (declared below, or the block's).
          signal: ctx.signal,
        });
      } catch (error) {
        const name = (error as { name?: string }).name;
        throw new ConnectorError(
          name === 'TimeoutError' ? 'timeout' : 'network_error',
          `Slack call failed: ${String(error)}`,
          { cause: error },
        );
      }
      const text = new TextDecoder().decode(await readCappedBody(response, 1024 * 1024));
      const body = parseJson(text, response);
      if (!body || body.ok !== true) {
        const error = typeof body?.error === 'string' ? body.error : `http_${response.status}`;
        const permanent = PERMANENT.includes(error);
        throw new ConnectorError(
          permanent ? 'slack_error_permanent' : 'slack_error',
          `Slack chat.postMessage failed: ${error}`,
          {
            retryable: !permanent,
            details: { error, status: response.status },
          },
        );
      }
      return {
        ok: true,
        channel: String(body.channel ?? input.channel),
        ts: String(body.ts ?? ''),
      };
    },
  });
}

function parseJson(text: string, response: Response): Record<string, unknown> | undefined {
  if (!isJsonContentType(response.headers.get('content-type'))) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object'
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
