import { Client } from 'pg';

/**
 * Records the SQL text of every statement any pg client of this process sends (an app started by
 * `startTestApp` included) until the returned function is called, which gives them back.
 */
export function recordStatements(): () => string[] {
  const stop = recordQueries();
  return () => stop().map((sent) => sent.text);
}

/** The SQL of every statement this process's pg clients sent while `work` ran. */
export async function statementsDuring(work: () => Promise<unknown>): Promise<string[]> {
  return (await queriesDuring(work)).map((sent) => sent.text);
}

/** As `statementsDuring`, with each statement's parameters. */
export async function queriesDuring(work: () => Promise<unknown>): Promise<SentQuery[]> {
  const stop = recordQueries();
  let sent: SentQuery[];
  try {
    await work();
  } finally {
    sent = stop();
  }
  return sent;
}

/** A statement as a pg client sent it: its SQL, its parameters, and the client that sent it. */
export interface SentQuery {
  text: string;
  values: unknown[];
  client: Client;
}

/** As `recordStatements`, with each statement's parameters. */
export function recordQueries(): () => SentQuery[] {
  const sent: SentQuery[] = [];
  const query = Client.prototype.query;
  Client.prototype.query = function recorded(this: Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string; values?: unknown[] } | undefined;
    const values = Array.isArray(args[1]) ? args[1] : typeof first === 'object' && Array.isArray(first?.values) ? first.values : [];
    sent.push({ text: typeof first === 'string' ? first : (first?.text ?? ''), values, client: this });
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof Client.prototype.query;
  return () => {
    Client.prototype.query = query;
    return sent;
  };
}
