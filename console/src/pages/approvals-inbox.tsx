import { useState, type ChangeEvent } from 'react';
import { query } from '../api';
import { ErrorNotice, Loading } from '../components/notice';
import { Page } from '../components/page';
import { Status } from '../components/status';
import { formatTime, shortId } from '../format';
import { Link } from '../router';
import type { InboxApproval, InboxPage } from '../types';
import { useApi } from '../use-api';
import { DecisionForm } from './decision-form';

const STATUSES = ['pending', 'approved', 'rejected', 'timed_out', 'cancelled'] as const;

/** The organization's human approvals (pending first of all): read the prompt, approve or reject with a note. */
export function ApprovalsInboxPage() {
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('pending');
  const inbox = useApi<InboxPage>(`/api/approvals${query({ status, limit: 200 })}`);
  const [announcement, setAnnouncement] = useState('');
  const onDecided = (approval: InboxApproval, decision: string) => {
    setAnnouncement(`${decision}: “${approval.prompt}” (run ${shortId(approval.runId)})`);
    inbox.reload();
  };
  return (
    <Page title="Approvals">
      <div className="filters">
        <label>
          Show
          <select value={status} onChange={(e: ChangeEvent<HTMLSelectElement>) => setStatus(e.target.value as (typeof STATUSES)[number])}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p role="status" className={announcement ? 'notice notice-ok' : 'visually-hidden'}>
        {announcement ? `Recorded ${announcement}` : ''}
      </p>
      <ErrorNotice error={inbox.error} what="Could not read the approvals" />
      {inbox.loading && !inbox.data ? <Loading what="approvals" /> : null}
      {inbox.data && inbox.data.data.length === 0 ? <p>No {status.replace('_', ' ')} approvals.</p> : null}
      <ul className="cards" aria-label={`${status.replace('_', ' ')} approvals`}>
        {(inbox.data?.data ?? []).map((approval) => (
          <li key={`${approval.runId}/${approval.blockId}`} className="card">
            <article aria-labelledby={`prompt-${approval.runId}-${approval.blockId}`}>
              <h2 id={`prompt-${approval.runId}-${approval.blockId}`} className="prompt-title">
                {approval.prompt || '(no prompt)'}
              </h2>
              <dl className="facts">
                <dt>Status</dt>
                <dd>
                  <Status value={approval.status} />
                </dd>
                <dt>Run</dt>
                <dd>
                  <Link to={`/runs/${approval.runId}`} title={approval.runId}>
                    {shortId(approval.runId)}
                  </Link>{' '}
                  block {approval.blockId}
                </dd>
                <dt>Requested</dt>
                <dd>{formatTime(approval.requestedAt)}</dd>
                <dt>{approval.decidedAt ? 'Decided' : 'Decide before'}</dt>
                <dd>
                  {approval.decidedAt ? `${formatTime(approval.decidedAt)}${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}` : approval.expiresAt ? formatTime(approval.expiresAt) : 'no deadline'}
                </dd>
                {approval.note ? (
                  <>
                    <dt>Note</dt>
                    <dd>{approval.note}</dd>
                  </>
                ) : null}
              </dl>
              {approval.approvalToken ? (
                <DecisionForm token={approval.approvalToken} context={`“${approval.prompt}”`} onDecided={(decision) => onDecided(approval, decision)} />
              ) : null}
            </article>
          </li>
        ))}
      </ul>
    </Page>
  );
}
