import { useState, type FormEvent } from 'react';
import { api, query, type Schemas } from '../api';
import { Json } from '../components/json';
import { ErrorNotice, Loading } from '../components/notice';
import { Page } from '../components/page';
import { formatDuration } from '../format';
import { Link } from '../router';
import type { WorkflowDetail, WorkflowVersion } from '../types';
import { useApi } from '../use-api';
import { WorkflowConcurrency } from './workflow-concurrency';
import { WorkflowHistory } from './workflow-history';
import { WorkflowReplay } from './workflow-replay';
import { WorkflowWebhooks } from './workflow-webhooks';

type Workflow = Schemas['Workflow'];

/** Blocks in run order (each after every block with an edge into it; ties keep the stored order). */
export function runOrder(workflow: Workflow): Schemas['Block'][] {
  const incoming = new Map(workflow.blocks.map((b) => [b.id, 0]));
  for (const c of workflow.connections) incoming.set(c.target, (incoming.get(c.target) ?? 0) + 1);
  const ordered: Schemas['Block'][] = [];
  const left = [...workflow.blocks];
  while (left.length > 0) {
    const index = left.findIndex((b) => (incoming.get(b.id) ?? 0) === 0);
    const [next] = left.splice(index < 0 ? 0 : index, 1); // a cycle cannot be stored, but never loop
    if (!next) break;
    ordered.push(next);
    for (const c of workflow.connections) if (c.source === next.id) incoming.set(c.target, (incoming.get(c.target) ?? 1) - 1);
  }
  return ordered;
}

/** A workflow's blocks and connections, its validation problems, its history, any past version, and reverting to it. */
export function WorkflowPage({ workflowId }: { workflowId: string }) {
  const path = `/api/workflows/${encodeURIComponent(workflowId)}`;
  const detail = useApi<WorkflowDetail>(path);
  const [past, setPast] = useState<{ version?: WorkflowVersion; error?: unknown }>({});
  const showVersion = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const version = String(new FormData(event.currentTarget).get('version'));
    api<WorkflowVersion>(`${path}/versions/${version}`).then(
      (found) => setPast({ version: found }),
      (error: unknown) => setPast({ error }),
    );
  };
  const [reverted, setReverted] = useState<{ from: number; to: number; version: number }>();
  const [revertError, setRevertError] = useState<unknown>();
  const revertTo = (version: number) => {
    setReverted(undefined);
    setRevertError(undefined);
    const shown = detail.data?.version ?? 0;
    // If-Match: the version on screen. A change made since (by an agent, say) is not undone unseen: 412.
    api<{ version: number; revertedTo: number }>(`${path}/revert`, { method: 'POST', body: { version }, headers: { 'if-match': `"${shown}"` } }).then((result) => {
      setReverted({ from: shown, to: result.revertedTo, version: result.version });
      setPast({});
      detail.reload();
    }, setRevertError);
  };
  const workflow = detail.data?.workflow;
  return (
    <Page title={workflow ? `Workflow ${workflow.metadata.name || workflowId}` : 'Workflow'}>
      <ErrorNotice error={detail.error} what="Could not read the workflow" />
      {detail.loading && !detail.data ? <Loading what="the workflow" /> : null}
      {detail.data && workflow ? (
        <>
          <p>
            Version {detail.data.version} · {detail.data.runnable ? 'runnable' : 'not runnable'} ·{' '}
            {workflow.metadata.timeoutMs !== undefined ? `runs time out after ${formatDuration(workflow.metadata.timeoutMs)} · ` : ''}
            {workflow.metadata.concurrency ? `at most ${workflow.metadata.concurrency.limit} runs at once${workflow.metadata.concurrency.keyPath ? ` per ${workflow.metadata.concurrency.keyPath}` : ''} · ` : ''}
            <Link to={`/runs${query({ workflowId })}`}>its runs</Link> · <Link to={`/schedules${query({ workflowId })}`}>its schedules</Link>
          </p>
          {workflow.metadata.description ? <p className="muted">{workflow.metadata.description}</p> : null}
          {detail.data.validation_errors.length > 0 ? (
            <section aria-labelledby="validation-heading" className="card card-error">
              <h2 id="validation-heading">What keeps it from running</h2>
              <ul>
                {detail.data.validation_errors.map((v, i) => (
                  <li key={i}>
                    <code>{v.code}</code> in {v.block_id}
                    {v.field ? ` (${v.field})` : ''}: {v.error}
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          <Blocks workflow={workflow} heading="Blocks and connections" />
          <section aria-labelledby="versions-heading">
            <h2 id="versions-heading">Past versions</h2>
            <form className="filters" onSubmit={showVersion} aria-label="Show a past version">
              <label>
                Version
                <select name="version" defaultValue={String(detail.data.version)}>
                  {versionsDown(detail.data.version).map((v) => (
                    <option key={v} value={v}>
                      {v}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit">Show</button>
            </form>
            <ErrorNotice error={past.error} what="Could not read that version" />
            {past.version ? <Blocks workflow={past.version.workflow} heading={`As it was at version ${past.version.version}`} level={3} /> : null}
            {past.version && past.version.version !== detail.data.version ? (
              <button type="button" onClick={() => revertTo(past.version!.version)}>
                Revert to version {past.version.version}
              </button>
            ) : null}
            {reverted ? (
              <p role="status">
                Reverted to the content of version {reverted.to}: now version {reverted.version} (it was version {reverted.from}).
              </p>
            ) : null}
            <ErrorNotice error={revertError} what="Could not revert" />
          </section>
          {detail.data.runnable ? <WorkflowReplay workflowId={workflowId} /> : null}
          <WorkflowConcurrency key={`concurrency-${detail.data.version}`} workflowId={workflowId} limited={workflow.metadata.concurrency !== undefined} />
          <WorkflowWebhooks key={`webhooks-${detail.data.version}`} workflowId={workflowId} />
          {/* Read again at each new version (a revert from this page makes one). */}
          <WorkflowHistory key={detail.data.version} workflowId={workflowId} />
        </>
      ) : null}
    </Page>
  );
}

/** `latest`, `latest - 1`, …, 1. */
const versionsDown = (latest: number) => Array.from({ length: latest }, (_, i) => latest - i);

function Blocks({ workflow, heading, level = 2 }: { workflow: Workflow; heading: string; level?: 2 | 3 }) {
  const Heading = level === 2 ? 'h2' : 'h3';
  const targets = (id: string) => workflow.connections.filter((c) => c.source === id);
  return (
    <section aria-label={heading}>
      <Heading>{heading}</Heading>
      {workflow.blocks.length === 0 ? <p>No blocks.</p> : null}
      <ol className="blocks">
        {runOrder(workflow).map((block) => (
          <li key={block.id} className="card">
            <p>
              <strong>{block.name ?? block.id}</strong> <code>{block.type}</code>
              {block.name ? <span className="muted"> ({block.id})</span> : null}
              {block.enabled ? null : <span> · disabled</span>}
            </p>
            <p>
              Then:{' '}
              {targets(block.id).length === 0
                ? 'nothing (an end of the workflow)'
                : targets(block.id)
                    .map((c) => `${c.target}${c.sourceHandle ? ` (on ${c.sourceHandle})` : ''}`)
                    .join(', ')}
            </p>
            <details>
              <summary>Params of {block.id}</summary>
              <Json value={block.params} label={`Params of ${block.id}`} />
            </details>
          </li>
        ))}
      </ol>
    </section>
  );
}
