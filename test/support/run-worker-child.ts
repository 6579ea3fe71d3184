// A worker process for crash tests: the real `WorkerAppModule` (as `thodare worker` runs it) plus
// the test connectors. Configured like the CLI, from the environment; prints `ready` once claiming.
import { parseConfig } from '../../src/config/config';
import { createPool } from '../../src/database/pool';
import { startApplication } from '../../src/main';
import { onShutdownSignals } from '../../src/cli/shutdown';
import { runTestConnectors } from './run-connectors';

async function main(): Promise<void> {
  const config = parseConfig({ THODARE_WORKER_PORT: '0', ...process.env });
  const databaseUrl = config.databaseUrl;
  if (!databaseUrl) throw new Error('DATABASE_URL is required');
  const failAttempts = process.env.TEST_FAIL_MAX_ATTEMPTS ? Number(process.env.TEST_FAIL_MAX_ATTEMPTS) : undefined;
  const connectorsPool = createPool(databaseUrl, config.schema, 4);
  const connectors = runTestConnectors(connectorsPool, failAttempts ? { failAttempts } : {});
  const running = await startApplication({ config, databaseUrl, roles: { api: false, worker: true }, connectors });
  process.stdout.write('ready\n');
  if (process.env.TEST_CLOSE_ON_SIGTERM) {
    // As an application that embeds Thodare stops it: `close()`, then nothing more. The process
    // ends when nothing is left for its event loop, never by `process.exit`.
    process.once('SIGTERM', () => {
      void running.close().then(async () => {
        await connectorsPool.end();
        process.stdout.write('closed\n');
      });
    });
    return;
  }
  onShutdownSignals(running, { graceMs: config.shutdownGraceMs, print: (line) => process.stdout.write(`${line}\n`) });
}

main().catch((error) => {
  process.stderr.write(`worker child failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
