import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../database/pool';

/** Requests of one line handled by one transaction at most. */
const GROUP = 200;

interface Pending<R, O> {
  request: R;
  resolve: (outcome: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Requests on concurrency lines (places asked for, runs ending), grouped per line: one
 * transaction per line at a time takes every request of that line that came meanwhile and
 * answers each. A burst of runs of a limited workflow then holds the line's lock a few times, not
 * once per run — one at a time, each request held a pooled connection while it waited for the
 * lock, and the worker's other runs waited for connections.
 */
export class LineGroups<R, O> {
  private readonly lines = new Map<string, Pending<R, O>[]>();

  constructor(
    private readonly pool: Pool,
    /** One group of one line's requests, in the group's transaction: an outcome per request, in order. */
    private readonly handle: (client: PoolClient, requests: R[]) => Promise<O[]>,
  ) {}

  /** `line`: the line's identity (organization, workflow, key), as one string. */
  submit(line: string, request: R): Promise<O> {
    let pending = this.lines.get(line);
    const idle = pending === undefined;
    if (!pending) this.lines.set(line, (pending = []));
    const queue = pending;
    const answer = new Promise<O>((resolve, reject) => queue.push({ request, resolve, reject }));
    if (idle) void this.drain(line, queue);
    return answer;
  }

  private async drain(line: string, pending: Pending<R, O>[]): Promise<void> {
    while (pending.length > 0) {
      const group = pending.splice(0, GROUP);
      try {
        const outcomes = await inTransaction(this.pool, (client) => this.handle(client, group.map((entry) => entry.request)));
        group.forEach((entry, i) => entry.resolve(outcomes[i]!));
      } catch (error) {
        // A group the database refused (one request's content, a race on a unique index) goes
        // again one request at a time: only the guilty request fails.
        if (group.length === 1) group[0]!.reject(error);
        else for (const entry of group) await this.alone(entry);
      }
    }
    this.lines.delete(line);
  }

  private async alone(entry: Pending<R, O>): Promise<void> {
    try {
      entry.resolve((await inTransaction(this.pool, (client) => this.handle(client, [entry.request])))[0]!);
    } catch (error) {
      entry.reject(error);
    }
  }
}
