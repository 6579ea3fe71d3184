import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSlackSendMessageConnector } from './slack-send-message.connector';
import { testContext } from './connector-test-context';

interface Received {
  path: string;
  auth: string | undefined;
  contentType: string | undefined;
  body: Record<string, unknown>;
}
let received: Received[] = [];
let server: Server;
let base: string;

/** A fake Slack Web API: answers like chat.postMessage does, by channel. */
beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => {
      raw += chunk.toString();
    });
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      received.push({
        path: req.url ?? '',
        auth: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
      });
      const reply = (status: number, json: unknown) =>
        res
          .writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
          .end(JSON.stringify(json));
      if (req.headers.authorization !== 'Bearer xoxb-good')
        return reply(200, { ok: false, error: 'invalid_auth' });
      if (body.channel === '#missing') return reply(200, { ok: false, error: 'channel_not_found' });
      if (body.channel === '#busy') return reply(429, { ok: false, error: 'ratelimited' });
      return reply(200, {
        ok: true,
        channel: 'C123',
        ts: '1700000000.000100',
        message: { text: body.text },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  received = [];
});

const send = (params: Record<string, unknown>) => {
  const slack = createSlackSendMessageConnector({ baseUrl: base });
  return slack.run?.(slack.params.parse(params), testContext());
};

describe('slack_send_message', () => {
  it('posts to chat.postMessage with the bot token and returns channel and ts', async () => {
    await expect(
      send({ channel: '#general', text: 'hi', threadTs: '1.2', botToken: 'xoxb-good' }),
    ).resolves.toEqual({ ok: true, channel: 'C123', ts: '1700000000.000100' });
    expect(received).toEqual([
      {
        path: '/api/chat.postMessage',
        auth: 'Bearer xoxb-good',
        contentType: 'application/json; charset=utf-8',
        body: { channel: '#general', text: 'hi', thread_ts: '1.2' },
      },
    ]);
  });

  it('fails on Slack ok:false, permanently for errors retrying cannot fix', async () => {
    await expect(
      send({ channel: '#missing', text: 'hi', botToken: 'xoxb-good' }),
    ).rejects.toMatchObject({
      code: 'slack_error_permanent',
      retryable: false,
      details: { error: 'channel_not_found' },
    });
    await expect(
      send({ channel: '#general', text: 'hi', botToken: 'xoxb-bad' }),
    ).rejects.toMatchObject({ code: 'slack_error_permanent', details: { error: 'invalid_auth' } });
    await expect(
      send({ channel: '#busy', text: 'hi', botToken: 'xoxb-good' }),
    ).rejects.toMatchObject({ code: 'slack_error', retryable: true });
  });

  it('binds its hidden token param to the SLACK_BOT_TOKEN secret', () => {
    const slack = createSlackSendMessageConnector();
    expect([...slack.hiddenParams]).toEqual(['botToken']);
    expect(slack.secrets).toEqual({ botToken: 'SLACK_BOT_TOKEN' });
  });
});
