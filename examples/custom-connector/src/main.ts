// Thodare embedded in a project of its own: a connector with a hidden secret, served next to the
// builtins; a typed workflow; a run started and read through the typed client.
import { z } from 'zod';
import { ConnectorError, defineConnector, defineWorkflow, hidden, startThodare, toEditOps } from 'thodare';
import { createClient } from 'thodare/client';

// `apiKey` is hidden: agents never see or set it; each run fills it from the organization secret
// GREETER_API_KEY.
const greet = defineConnector({
  type: 'greet_customer',
  name: 'Greet a customer',
  description: 'Writes a greeting for a customer, signed with the greeting service key.',
  category: 'examples',
  kind: 'action',
  params: z.object({ name: z.string().min(1), apiKey: hidden(z.string()) }),
  secrets: { apiKey: 'GREETER_API_KEY' },
  outputs: z.object({ greeting: z.string(), keyId: z.string() }),
  run: async ({ name, apiKey }, ctx) => {
    if (!apiKey.startsWith('gk_')) throw new ConnectorError('bad_key', 'the greeter key is malformed', { retryable: false });
    ctx.log('greeting', { name });
    return { greeting: `Hello, ${name}!`, keyId: apiKey.slice(0, 7) };
  },
});

const workflow = defineWorkflow('greet-a-customer')
  .input(z.object({ customer: z.string() }))
  .step('greet', greet, (refs) => ({ name: refs.input.customer }))
  .build();

async function main(): Promise<void> {
  // Everything else (DATABASE_URL, THODARE_SCHEMA, …) comes from the environment; without a
  // DATABASE_URL Thodare starts its embedded Postgres.
  const thodare = await startThodare({ connectors: [greet], port: 0, host: '127.0.0.1', logLevel: 'error' });
  try {
    const anonymous = createClient({ baseUrl: thodare.url });
    const signUp = await anonymous.POST('/api/auth/sign-up', {
      body: { email: `example-${Date.now()}@example.com`, password: 'correct horse battery staple' },
    });
    if (!signUp.data) throw new Error(`sign-up failed: ${JSON.stringify(signUp.error)}`);
    const client = createClient({ baseUrl: thodare.url, token: signUp.data.token, agent: 'custom-connector-example' });

    const secret = await client.POST('/api/secrets', { body: { name: 'GREETER_API_KEY', value: 'gk_live_example_secret' } });
    if (secret.error) throw new Error(`storing the secret failed: ${JSON.stringify(secret.error)}`);

    const created = await client.POST('/api/workflows', { body: { name: workflow.metadata.name } });
    if (!created.data) throw new Error(`creating the workflow failed: ${JSON.stringify(created.error)}`);
    const workflowId = created.data.id;
    const patched = await client.POST('/api/workflows/{id}/operations', {
      params: { path: { id: workflowId } },
      body: { ops: toEditOps(workflow) },
    });
    if (!patched.data?.ok) throw new Error(`the patch was not applied: ${JSON.stringify(patched.data ?? patched.error)}`);

    const run = await client.POST('/api/workflows/{id}/runs', {
      params: { path: { id: workflowId }, query: { waitMs: 10_000 } },
      body: { input: { customer: 'Ada' } },
    });
    if (!run.data) throw new Error(`starting the run failed: ${JSON.stringify(run.error)}`);
    // 200 with the finished run, or 202 with its id when it outlasts waitMs.
    const runId = 'runId' in run.data ? run.data.runId : run.data.id;
    console.log(`run ${runId}: ${run.data.status}`);

    const logs = await client.GET('/api/runs/{id}/logs', { params: { path: { id: runId } } });
    if (!logs.data) throw new Error(`reading the logs failed: ${JSON.stringify(logs.error)}`);
    for (const step of logs.data.data) {
      console.log(`step ${step.blockId} (${step.blockType}) attempt ${step.attempt}: ${step.status} input=${JSON.stringify(step.input)} output=${JSON.stringify(step.output)}`);
    }
  } finally {
    await thodare.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
