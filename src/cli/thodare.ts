import { Command } from 'commander';
import type { Config } from '../config/config';
import { packageVersion } from '../database/project-root';
import { registerClientCommands } from './client/register';

// The server side (Nest, pg, the event store) loads only when a server command runs: the client
// commands start without it.
const serve = async (...args: Parameters<typeof import('./serve').serve>) => (await import('./serve')).serve(...args);

const print = (line: string) => process.stdout.write(`${line}\n`);
const CONNECTORS_FLAG = ['--connectors <module>', 'a module exporting your own connectors (default export or `connectors`), like THODARE_CONNECTORS'] as const;
type ConnectorsFlag = { connectors?: string };

/** The `thodare` command. Every failure ends as one readable message and exit code 1. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('thodare')
    .description('Thodare: a control plane for durable workflows that LLM agents write')
    .version(packageVersion())
    .showHelpAfterError();

  program.command('start').description('run the API and the worker (embedded Postgres unless DATABASE_URL is set)').option(...CONNECTORS_FLAG)
    .action((options: ConnectorsFlag) => run((config) => serve(config, { api: true, worker: true }, print), options));
  program.command('api').description('run only the HTTP API').option(...CONNECTORS_FLAG)
    .action((options: ConnectorsFlag) => run((config) => serve(config, { api: true, worker: false }, print), options));
  program.command('worker').description('run only the background worker (runs, and the async read models unless THODARE_WORKER_PROJECTIONS=false)').option(...CONNECTORS_FLAG)
    .action((options: ConnectorsFlag) => run((config) => serve(config, { api: false, worker: true }, print), options));
  program.command('projector').description('run only the async read models (run logs, analytics, audit seals), for workers with THODARE_WORKER_PROJECTIONS=false')
    .action(() => run((config) => serve(config, { api: false, worker: false, projections: true }, print)));
  program.command('migrate').description('apply pending database migrations and exit')
    .action(() => run(async (config) => {
      const { displayUrl, resolveDatabase } = await import('./database');
      const { migrate } = await import('../database/migrate');
      const database = await resolveDatabase(config);
      try {
        print(`database: ${displayUrl(database)}`);
        const applied = await migrate(database.url, config.schema);
        print(applied.length ? `applied: ${applied.join(', ')}` : 'up to date');
      } finally {
        await database.embedded?.stop();
      }
    }));
  const admin = program.command('admin').description('manage accounts from the server side');
  admin.command('create').description('create a user, an organization they own, and print an admin API key once')
    .requiredOption('--email <email>', "the owner's email")
    .requiredOption('--org <name>', 'the organization name')
    .option('--password <password>', 'the password (at least 12 characters); generated and printed when absent')
    .option('--name <name>', "the owner's display name")
    .action((options: { email: string; org: string; password?: string; name?: string }) => run(async (config) => (await import('./admin')).adminCreate(config, options, print)));
  const projections = program.command('projections').description('manage read models');
  projections.command('rebuild').argument('<name>', 'the projection to rebuild from position zero')
    .description('rebuild one read model from the event store').option(...CONNECTORS_FLAG)
    .action((name: string, options: ConnectorsFlag) => run(async (config) => (await import('./rebuild')).rebuild(config, name, print), options));

  const audit = program.command('audit').description('the audit trail');
  audit.command('verify').argument('<bundle>', 'a bundle from GET /api/audit/export')
    .description('verify an audit bundle offline: structure, digests, hash chain, Merkle roots and signatures')
    .option('--public-key <key...>', 'a trusted Ed25519 public key (base64, or @file); repeat for rotated keys')
    .action(async (bundle: string, options: { publicKey?: string[] }) => {
      try {
        const { auditVerify } = await import('./audit');
        process.exitCode = auditVerify(bundle, options, print, (line) => process.stderr.write(`${line}\n`));
      } catch (error) {
        process.stderr.write(`thodare: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 2;
      }
    });
  const analytics = program.command('analytics').description("the analysts' SQL contract (views in analytics_v1)");
  analytics.command('grant').argument('<role>', 'the login role to create (or update)')
    .description('let a login role read the analytics views, and nothing else')
    .option('--org <id>', "limit it to one organization's rows")
    .option('--password <password>', 'its password (12+ printable ASCII characters); generated and printed once when absent')
    .action((role: string, options: { org?: string; password?: string }) => run(async (config) => (await import('./analytics')).analyticsGrant(config, role, options, print)));
  analytics.command('revoke').argument('<role>', 'a role granted with `analytics grant`')
    .description("take a role's analytics access away (and drop it if the grant created it)")
    .action((role: string) => run(async (config) => (await import('./analytics')).analyticsRevoke(config, role, print)));
  analytics.command('docs').description('render the contract documentation (docs/analytics.md) from the catalog comments')
    .option('--out <file>', 'write it there instead of to stdout')
    .action((options: { out?: string }) => run(async (config) => (await import('./analytics')).analyticsDocs(config, options, print)));

  registerClientCommands(program, packageVersion());

  await program.parseAsync(argv);
}

async function run(task: (config: Config) => Promise<void>, flags: ConnectorsFlag = {}): Promise<void> {
  const { ConfigError, loadConfig } = await import('../config/config');
  const { InvalidConnectors } = await import('../domain/connectors/connector-list');
  try {
    await task(loadConfig({ THODARE_CONNECTORS: flags.connectors }));
  } catch (error) {
    if (error instanceof ConfigError || error instanceof InvalidConnectors) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`thodare: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
