import { fork } from 'node:child_process';

/** What the senders are asked to do: POST JSON to `url` from `senders` loops for `ms` or `max` deliveries. */
export interface SendOrder {
  url: string;
  senders: number;
  ms: number;
  max: number;
  tag: string;
}

export interface SendReport {
  /** Ack latency of each accepted delivery (202), ms. */
  latencies: number[];
  refused: number;
  firstRefusal?: string;
  seconds: number;
}

/**
 * Webhook senders in a child process, as a sender on another machine would be: in the server's
 * own process they took a quarter of its CPU and, worse, shared its one JavaScript thread, so the
 * server could never use a whole core. Both processes still share this machine's cores.
 */
export function sendFromChild(order: SendOrder): Promise<SendReport> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--send'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (report) => {
      resolve(report as SendReport);
      child.kill();
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`webhook senders exited with ${code} before reporting`)));
    child.send(order);
  });
}

async function send(order: SendOrder): Promise<SendReport> {
  const latencies: number[] = [];
  let sent = 0;
  let refused = 0;
  let firstRefusal: string | undefined;
  const began = performance.now();
  const until = began + order.ms;
  await Promise.all(
    Array.from({ length: order.senders }, async (_, w) => {
      while (performance.now() < until && sent < order.max) {
        sent += 1;
        const started = performance.now();
        const res = await fetch(order.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sender: w, n: sent, tag: order.tag }) });
        const text = await res.text();
        if (res.status !== 202) {
          refused += 1;
          firstRefusal ??= `${res.status} ${text}`;
          continue;
        }
        latencies.push(performance.now() - started);
      }
    }),
  );
  return { latencies, refused, ...(firstRefusal ? { firstRefusal } : {}), seconds: (performance.now() - began) / 1000 };
}

if (process.argv.includes('--send')) {
  process.once('message', (order) => {
    void send(order as SendOrder).then((report) => process.send!(report));
  });
}
