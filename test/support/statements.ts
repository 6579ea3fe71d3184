import { Client } from 'pg';

/**
 * Records the SQL text of every statement any pg client of this process sends (an app started by
 * `startTestApp` included) until the returned function is called, which gives them back.
 */
export function recordStatements(): () => string[] {
  const texts: string[] = [];
  const query = Client.prototype.query;
  Client.prototype.query = function recorded(this: Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string } | undefined;
    texts.push(typeof first === 'string' ? first : (first?.text ?? ''));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof Client.prototype.query;
  return () => {
    Client.prototype.query = query;
    return texts;
  };
}
