import { benchAudit } from './audit';
import { benchCosts } from './costs';
import { benchEventStore } from './eventstore';
import { benchFaults } from './faults';
import { benchPatch } from './patch';
import { benchRateLimit } from './rate-limit';
import { benchRuntime } from './runtime';
import { benchScale } from './scale';
import { benchTriggers } from './triggers';

/** `npm run bench -- <name>`: prints one JSON document of figures per benchmark. */
const benchmarks: Record<string, () => Promise<Record<string, unknown>>> = {
  audit: benchAudit,
  costs: benchCosts,
  eventstore: benchEventStore,
  faults: benchFaults,
  patch: benchPatch,
  'rate-limit': benchRateLimit,
  runtime: benchRuntime,
  scale: benchScale,
  triggers: benchTriggers,
};

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const names = requested.length === 0 || requested.includes('all') ? Object.keys(benchmarks) : requested;
  for (const name of names) {
    const bench = benchmarks[name];
    if (!bench) {
      process.stderr.write(`unknown benchmark "${name}"; known: ${Object.keys(benchmarks).join(', ')}, all\n`);
      process.exit(1);
    }
    process.stdout.write(`${JSON.stringify(await bench(), null, 2)}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
