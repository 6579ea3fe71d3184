import type { Command, CommanderError } from 'commander';
import { registerCatalog } from './catalog.command';
import { call, cliClient, exitCodeOf, message } from './context';
import { EXIT } from './errors';
import { formatOf, printDocument } from './output';
import { DEFAULT_PROFILE, removeProfile, saveProfile } from './profiles';
import { registerMessaging } from './messaging.command';
import { registerRuns } from './runs.command';
import { registerWorkflows } from './workflows.command';

/**
 * The client commands: talk to a Thodare server over HTTP with the typed client, never load the
 * server. A usage error (unknown option, missing argument) exits 2, not commander's 1.
 */
export function registerClientCommands(program: Command, version: string): void {
  const before = new Set(program.commands);
  registerLogin(program, version);
  registerWorkflows(program, version);
  registerRuns(program, version);
  registerMessaging(program, version);
  registerCatalog(program, version);
  for (const command of program.commands) if (!before.has(command)) usageExits(command);
}

function usageExits(command: Command): void {
  command.exitOverride((error: CommanderError) => process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage));
  command.commands.forEach(usageExits);
}

type LoginFlags = { url: string; apiKey: string; profile: string; output?: string };

function registerLogin(program: Command, version: string): void {
  program
    .command('login')
    .description('check an API key against a server and save both as a profile (file mode 0600)')
    .requiredOption('--url <url>', 'the server, e.g. http://localhost:3000')
    .requiredOption('--api-key <key>', 'an API key (thd_…)')
    .option('--profile <name>', 'the profile to save', DEFAULT_PROFILE)
    .option('-o, --output <format>', 'table, json or jsonl')
    .action(async (flags: LoginFlags) => {
      try {
        const format = formatOf(flags.output);
        const client = cliClient(flags.url, version, flags.apiKey);
        const session = await call(client.GET('/api/auth/session'));
        const path = saveProfile(flags.profile, { url: flags.url, apiKey: flags.apiKey });
        message(`saved profile "${flags.profile}" to ${path}`);
        printDocument(format, { profile: flags.profile, url: flags.url, path, organizationId: session.organizationId, role: session.role });
      } catch (error) {
        process.exitCode = exitCodeOf(error);
      }
    });
  program
    .command('logout')
    .description('forget a saved profile')
    .option('--profile <name>', 'the profile to forget', DEFAULT_PROFILE)
    .action((flags: { profile: string }) => {
      try {
        message(removeProfile(flags.profile) ? `removed profile "${flags.profile}"` : `no profile "${flags.profile}"`);
      } catch (error) {
        process.exitCode = exitCodeOf(error);
      }
    });
}
