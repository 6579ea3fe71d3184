import type { Command } from 'commander';
import { call, leaf, paged, pageQuery, readJson, remote, type PageFlags } from './context';
import { printDocument, printPage } from './output';

type SendFlags = { payload?: string; idempotencyKey?: string };

const payloadOf = (flags: SendFlags) => ({
  ...(flags.payload !== undefined ? { payload: readJson(flags.payload, '--payload') } : {}),
  ...(flags.idempotencyKey ? { idempotencyKey: flags.idempotencyKey } : {}),
});

/** `thodare events publish|list`, `signals send`, `approvals show|approve|reject`. */
export function registerMessaging(program: Command, version: string): void {
  const events = program.command('events').description("publish events to the organization's runs and event-triggered workflows (remote)");
  leaf(events, 'publish', 'publish an event: trigger_event workflows on its name start, runs waiting on it (and its correlation key) resume')
    .argument('<name>')
    .option('--correlation-key <key>', 'only runs waiting with this key (or none)')
    .option('--payload <json>', 'JSON, @file.json or @- (stdin)')
    .option('--idempotency-key <key>', 'a retry with the same key publishes once')
    .action(
      remote(version, async ({ client, format }, name: string, flags: SendFlags & { correlationKey?: string }) => {
        const body = { name, ...payloadOf(flags), ...(flags.correlationKey !== undefined ? { correlationKey: flags.correlationKey } : {}) };
        printDocument(format, await call(client.POST('/api/events', { body })));
      }),
    );
  paged(leaf(events, 'list', 'the events published in the last 24 h, newest first, with the runs each started and reached'))
    .option('--name <name>', 'only events of this name')
    .action(
      remote(version, async ({ client, format }, flags: PageFlags & { name?: string }) => {
        const query = { ...pageQuery(flags), ...(flags.name ? { name: flags.name } : {}) };
        printPage(format, await call(client.GET('/api/events', { params: { query } })), ['eventId', 'name', 'correlationKey', 'publishedAt', 'matchedRuns']);
      }),
    );
  const signals = program.command('signals').description('signal one run (remote)');
  leaf(signals, 'send', "send a signal to a run: its wait_for_event on that name resumes")
    .argument('<run>', 'the run id')
    .argument('<name>', 'the signal name')
    .option('--payload <json>', 'JSON, @file.json or @- (stdin)')
    .option('--idempotency-key <key>', 'a retry with the same key sends once')
    .action(
      remote(version, async ({ client, format }, id: string, name: string, flags: SendFlags) => {
        printDocument(format, await call(client.POST('/api/runs/{id}/signals', { params: { path: { id } }, body: { name, ...payloadOf(flags) } })));
      }),
    );
  const approvals = program.command('approvals').description('decide human approvals (remote)');
  leaf(approvals, 'show', 'an approval: prompt, status, run')
    .argument('<token>')
    .action(remote(version, async ({ client, format }, token: string) => printDocument(format, await call(client.GET('/api/approvals/{token}', { params: { path: { token } } })))));
  for (const [verb, approved] of [['approve', true], ['reject', false]] as const) {
    leaf(approvals, verb, `${verb} a pending approval`)
      .argument('<token>')
      .option('--note <text>', 'recorded with the decision')
      .action(
        remote(version, async ({ client, format }, token: string, flags: { note?: string }) => {
          const body = { approved, ...(flags.note ? { note: flags.note } : {}) };
          printDocument(format, await call(client.POST('/api/approvals/{token}', { params: { path: { token } }, body })));
        }),
      );
  }
}
