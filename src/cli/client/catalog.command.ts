import type { Command } from 'commander';
import { call, leaf, remote } from './context';
import { UsageError } from './errors';
import { printDocument, printPage } from './output';

const ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
type Role = (typeof ROLES)[number];

/** `thodare connectors list|show` and `thodare keys create|list|revoke`. */
export function registerCatalog(program: Command, version: string): void {
  const connectors = program.command('connectors').description('the block types this server runs (remote)');
  leaf(connectors, 'list', 'every connector: type, kind, description')
    .option('--full', 'with params and outputs as JSON Schema')
    .action(
      remote(version, async ({ client, format }, flags: { full?: boolean }) => {
        const page = await call(client.GET('/api/connectors', { params: { query: { detail: flags.full ? 'full' : 'summary' } } }));
        printPage(format, page, ['type', 'kind', 'category', 'name', 'description']);
      }),
    );
  leaf(connectors, 'show', "one connector's full entry: params, outputs, retry policy, secrets")
    .argument('<type>')
    .action(remote(version, async ({ client, format }, type: string) => printDocument(format, await call(client.GET('/api/connectors/{type}', { params: { path: { type } } })))));

  const keys = program.command('keys').description("the organization's API keys (remote, admin+)");
  leaf(keys, 'create', 'create an API key; the key is printed once')
    .argument('<name>')
    .option('--role <role>', ROLES.join(', '), 'member')
    .option('--expires-at <time>', 'an ISO-8601 time')
    .action(
      remote(version, async ({ client, format }, name: string, flags: { role: string; expiresAt?: string }) => {
        if (!(ROLES as readonly string[]).includes(flags.role)) throw new UsageError(`--role: "${flags.role}" is not one of ${ROLES.join(', ')}`);
        const body = { name, role: flags.role as Role, ...(flags.expiresAt ? { expiresAt: flags.expiresAt } : {}) };
        printDocument(format, await call(client.POST('/api/api-keys', { body })));
      }),
    );
  leaf(keys, 'list', 'the keys, without their secrets')
    .action(remote(version, async ({ client, format }) => printPage(format, await call(client.GET('/api/api-keys')), ['id', 'name', 'prefix', 'role', 'lastUsedAt', 'revokedAt'])));
  leaf(keys, 'revoke', 'revoke a key: it is refused on its next request')
    .argument('<id>')
    .action(
      remote(version, async ({ client, format }, id: string) => {
        await call(client.DELETE('/api/api-keys/{id}', { params: { path: { id } } }));
        printDocument(format, { id, revoked: true });
      }),
    );
}
