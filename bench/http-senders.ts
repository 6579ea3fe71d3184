import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';

/** What the senders are asked to do: POST JSON to `url` from `senders` loops for `ms` or `max` requests. */
export interface SendOrder {
  url: string;
  senders: number;
  ms: number;
  max: number;
  tag: string;
  /** Sent with every request (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** The JSON body of every request; by default `{sender, n, tag}` (a distinct webhook delivery each). */
  body?: unknown;
  /** The status that counts as accepted (default 202). */
  expect?: number;
}

export interface SendReport {
  /** Latency of each accepted request, ms. */
  latencies: number[];
  refused: number;
  firstRefusal?: string;
  seconds: number;
  /** CPU time the senders' process spent meanwhile (user + system), ms. */
  cpuMs: number;
}

/**
 * HTTP clients in a child process, as clients on other machines would be: in the server's own
 * process they took a quarter of its CPU and, worse, shared its one JavaScript thread, so the
 * server could never use a whole core. Both processes still share this machine's cores. They post
 * with `node:http` over kept-alive sockets: `fetch` (undici) cost 1.72 ms of CPU per request
 * here, `node:http` 0.38 ms.
 */
export function sendFromChild(order: SendOrder): Promise<SendReport> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--send'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (report) => {
      resolve(report as SendReport);
      child.kill();
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`HTTP senders exited with ${code} before reporting`)));
    child.send(order);
  });
}

async function send(order: SendOrder): Promise<SendReport> {
  const latencies: number[] = [];
  let sent = 0;
  let refused = 0;
  let firstRefusal: string | undefined;
  const began = performance.now();
  const cpu = process.cpuUsage();
  const until = began + order.ms;
  const agent = new Agent({ keepAlive: true, maxSockets: order.senders });
  await Promise.all(
    Array.from({ length: order.senders }, async (_, w) => {
      while (performance.now() < until && sent < order.max) {
        sent += 1;
        const started = performance.now();
        const res = await post(agent, order.url, JSON.stringify(order.body ?? { sender: w, n: sent, tag: order.tag }), order.headers);
        if (res.status !== (order.expect ?? 202)) {
          refused += 1;
          firstRefusal ??= `${res.status} ${res.text}`;
          continue;
        }
        latencies.push(performance.now() - started);
      }
    }),
  );
  return { latencies, refused, ...(firstRefusal ? { firstRefusal } : {}), seconds: (performance.now() - began) / 1000, cpuMs: cpuMsSince(cpu) };
}

/** One POST over a kept-alive connection of `agent`: its status and body. */
function post(agent: Agent, url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

if (process.argv.includes('--send')) {
  process.once('message', (order) => {
    void send(order as SendOrder).then((report) => process.send!(report));
  });
}
