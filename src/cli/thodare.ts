import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config/config';
import { migrate } from '../database/migrate';
import { packageVersion } from '../database/project-root';
import { adminCreate } from './admin';
import { analyticsDocs, analyticsGrant, analyticsRevoke } from './analytics';
import { auditVerify } from './audit';
import { displayUrl, resolveDatabase } from './database';
import { rebuild } from './rebuild';
import { serve } from './serve';

const print = (line: string) => process.stdout.write(`${line}\n`);

/** The `thodare` command. Every failure ends as one readable message and exit code 1. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('thodare')
    .description('Thodare: a control plane for durable workflows that LLM agents write')
    .version(packageVersion())
    .showHelpAfterError();

  program.command('start').description('run the API and the worker (embedded Postgres unless DATABASE_URL is set)')
    .action(() => run((config) => serve(config, { api: true, worker: true }, print)));
  program.command('api').description('run only the HTTP API')
    .action(() => run((config) => serve(config, { api: true, worker: false }, print)));
  program.command('worker').description('run only the background worker (async projections, runs)')
    .action(() => run((config) => serve(config, { api: false, worker: true }, print)));
  program.command('migrate').description('apply pending database migrations and exit')
    .action(() => run(async (config) => {
      const database = await resolveDatabase(config);
      try {
        print(`database: ${displayUrl(database.url)}`);
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
    .action((options: { email: string; org: string; password?: string; name?: string }) => run((config) => adminCreate(config, options, print)));
  const projections = program.command('projections').description('manage read models');
  projections.command('rebuild').argument('<name>', 'the projection to rebuild from position zero')
    .description('rebuild one read model from the event store')
    .action((name: string) => run((config) => rebuild(config, name, print)));

  const audit = program.command('audit').description('the audit trail');
  audit.command('verify').argument('<bundle>', 'a bundle from GET /api/audit/export')
    .description('verify an audit bundle offline: structure, digests, hash chain, Merkle roots and signatures')
    .option('--public-key <key...>', 'a trusted Ed25519 public key (base64, or @file); repeat for rotated keys')
    .action((bundle: string, options: { publicKey?: string[] }) => {
      try {
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
    .action((role: string, options: { org?: string; password?: string }) => run((config) => analyticsGrant(config, role, options, print)));
  analytics.command('revoke').argument('<role>', 'a role granted with `analytics grant`')
    .description("take a role's analytics access away (and drop it if the grant created it)")
    .action((role: string) => run((config) => analyticsRevoke(config, role, print)));
  analytics.command('docs').description('render the contract documentation (docs/analytics.md) from the catalog comments')
    .option('--out <file>', 'write it there instead of to stdout')
    .action((options: { out?: string }) => run((config) => analyticsDocs(config, options, print)));

  await program.parseAsync(argv);
}

async function run(task: (config: Config) => Promise<void>): Promise<void> {
  try {
    await task(loadConfig());
  } catch (error) {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`thodare: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
