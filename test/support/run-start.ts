import { randomUUID } from 'node:crypto';
import type { ConnectorCatalog } from '../../src/domain/connectors/connector-catalog';
import { startRun } from '../../src/domain/run/run.commands';
import { createRunDecider } from '../../src/domain/run/run.decider';
import { catalogSpecs } from '../../src/connectors/catalog-specs';
import { runStreamId } from '../../src/domain/run/run.events';
import type { SerializedWorkflow } from '../../src/domain/workflow/workflow';
import { eventsChannel } from '../../src/database/database.module';
import { EventStore } from '../../src/event-store/event-store';
import { ALL_PROJECTIONS } from '../../src/app/projections';
import type { RunAppendHint } from '../../src/run-queue/run-append-hint';
import type { TestDatabase } from './database';

/**
 * Appends `RunStarted` (with a NOTIFY) the way the start command does, without a Nest app: for
 * tests whose workers all run in other processes.
 */
export async function appendRunStart(
  db: TestDatabase,
  catalog: ConnectorCatalog,
  workflow: SerializedWorkflow,
  input: unknown = {},
  organizationId = 'org-test',
): Promise<string> {
  const runId = randomUUID();
  const decider = createRunDecider();
  const events = startRun({ runId, organizationId, workflowId: 'wf-test', workflowVersion: 1, workflow, input, now: new Date() }, catalogSpecs(catalog), decider.limits);
  const state = decider.fold(events);
  const store = new EventStore(db.pool, eventsChannel(db.schema), ALL_PROJECTIONS);
  const streamId = runStreamId(runId);
  const hint: RunAppendHint = { kind: 'run', streamId, state };
  await store.append(streamId, 0, events, { organizationId, metadata: { actor: { type: 'system', id: 'test' } }, notify: true, hint });
  return runId;
}
