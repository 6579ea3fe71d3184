import { useState } from 'react';
import { api, query } from '../api';
import { LoadMore } from '../components/load-more';
import { ErrorNotice } from '../components/notice';
import { formatTime, shortId } from '../format';
import { Link, navigate } from '../router';
import type { ReplayAnswer, Webhook, WebhookDelivery, WebhookPage } from '../types';
import { useApi } from '../use-api';
import { usePages } from '../use-pages';

/** A workflow's inbound webhooks: each URL (its token is the credential), how it verifies and deduplicates, and its deliveries. */
export function WorkflowWebhooks({ workflowId }: { workflowId: string }) {
  const hooks = useApi<WebhookPage>(`/api/workflows/${encodeURIComponent(workflowId)}/webhooks`);
  const list = hooks.data?.data ?? [];
  return (
    <section aria-labelledby="webhooks-heading">
      <h2 id="webhooks-heading">Webhooks</h2>
      <ErrorNotice error={hooks.error} what="Could not read the webhooks" />
      {hooks.data && list.length === 0 ? <p>No webhook: a trigger_webhook block gives the workflow one.</p> : null}
      {list.map((hook) => (
        <WebhookCard key={hook.id} hook={hook} />
      ))}
    </section>
  );
}

function WebhookCard({ hook }: { hook: Webhook }) {
  const [open, setOpen] = useState(false);
  return (
    <article className="card" aria-label={`Webhook ${hook.blockId ?? hook.id}`}>
      <dl className="facts">
        <dt>URL</dt>
        <dd>
          <code data-testid="webhook-url">{hook.url}</code>
        </dd>
        <dt>Signatures</dt>
        <dd>{hook.signing === 'none' ? 'none: the URL alone is the credential' : `${hook.signing}${hook.secretIssued ? '' : ' (no secret issued yet)'}`}</dd>
        <dt>Deduplicated by</dt>
        <dd>{hook.signing === 'standard' ? 'the webhook-id header' : hook.idempotencyKeyPath ? `the Idempotency-Key header, else ${hook.idempotencyKeyPath}` : 'the Idempotency-Key header'}</dd>
        <dt>Defined by</dt>
        <dd>{hook.source === 'workflow' ? `block ${hook.blockId ?? ''}` : 'the API'}</dd>
      </dl>
      <button type="button" className="secondary" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? 'Hide deliveries' : 'Show deliveries'}
      </button>
      {open ? <Deliveries hookId={hook.id} /> : null}
    </article>
  );
}

/** The webhook's deliveries, oldest first; each can be replayed (a new run from the same request). */
function Deliveries({ hookId }: { hookId: string }) {
  const path = `/api/webhooks/${encodeURIComponent(hookId)}/deliveries`;
  const pages = usePages<WebhookDelivery>((after) => `${path}${query({ limit: 50, after })}`);
  const [error, setError] = useState<unknown>();
  const replay = (delivery: WebhookDelivery) => {
    setError(undefined);
    api<ReplayAnswer>(`${path}/${encodeURIComponent(delivery.deliveryId)}/replay`, { method: 'POST' }).then((answer) => navigate(`/runs/${answer.runId}`), setError);
  };
  return (
    <>
      <ErrorNotice error={pages.error ?? error} what="Deliveries" />
      {!pages.loading && pages.items.length === 0 ? <p>No delivery yet.</p> : null}
      {pages.items.length > 0 ? (
        <table>
          <caption>Deliveries, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">Request</th>
              <th scope="col">Dedupe key</th>
              <th scope="col">Run</th>
              <th scope="col">Replay</th>
            </tr>
          </thead>
          <tbody>
            {pages.items.map((delivery) => (
              <tr key={delivery.deliveryId}>
                <td>{formatTime(delivery.receivedAt)}</td>
                <td>
                  {delivery.method}, {delivery.body.length} {delivery.bodyEncoding === 'base64' ? 'base64 characters' : 'characters'}
                  {delivery.replayOf ? <span className="muted"> (a replay)</span> : null}
                </td>
                <td>{delivery.dedupeKey ?? '—'}</td>
                <td>
                  <Link to={`/runs/${delivery.runId}`}>{shortId(delivery.runId)}</Link>
                </td>
                <td>
                  <button type="button" className="secondary" onClick={() => replay(delivery)} aria-label={`Replay the delivery of ${formatTime(delivery.receivedAt)}`}>
                    Replay
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore pages={pages} what="deliveries" />
    </>
  );
}
