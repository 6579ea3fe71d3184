import { useState } from 'react';
import { ApiError } from '../api';
import { ErrorNotice, Loading } from '../components/notice';
import { Page } from '../components/page';
import { Standalone } from '../components/standalone';
import { Status } from '../components/status';
import { formatTime } from '../format';
import type { Approval } from '../types';
import { useApi } from '../use-api';
import { DecisionForm } from './decision-form';

/**
 * What an approval link opens (`waitingFor.approvalUrl`): the prompt and, while it is pending,
 * approve or reject with a note. No account needed: the token in the address is the
 * credential, and it decides once (a second decision is `approval_decided`, shown as such).
 */
export function ApprovalLinkPage({ token }: { token: string }) {
  const path = `/api/approvals/${encodeURIComponent(token)}`;
  const approval = useApi<Approval>(path);
  const [outcome, setOutcome] = useState<string>();
  const [alreadyDecided, setAlreadyDecided] = useState(false);
  const onError = (error: unknown) => {
    if (error instanceof ApiError && error.code === 'approval_decided') {
      setAlreadyDecided(true);
      approval.reload();
      return true;
    }
    return false;
  };
  const missing = approval.error instanceof ApiError && approval.error.status === 404;
  return (
    <Standalone>
      <Page title="Approval">
        {approval.loading && !approval.data ? <Loading what="the approval" /> : null}
        {missing ? (
          <p className="notice notice-error" role="alert">
            This approval link is not valid: it may have been mistyped, or the run was deleted.
          </p>
        ) : (
          <ErrorNotice error={approval.error} what="Could not read the approval" />
        )}
        {approval.data ? (
          <>
            <section aria-labelledby="prompt-heading" className="card">
              <h2 id="prompt-heading">The request</h2>
              <blockquote className="prompt">{approval.data.prompt}</blockquote>
              <dl className="facts">
                <dt>Status</dt>
                <dd data-testid="approval-status">
                  <Status value={approval.data.status} />
                </dd>
                <dt>Decide before</dt>
                <dd>{approval.data.expiresAt ? formatTime(approval.data.expiresAt) : 'no deadline'}</dd>
                {approval.data.decidedAt ? (
                  <>
                    <dt>Decided</dt>
                    <dd>
                      {formatTime(approval.data.decidedAt)}
                      {approval.data.decidedBy ? ` by ${approval.data.decidedBy}` : ''}
                    </dd>
                  </>
                ) : null}
              </dl>
            </section>
            {alreadyDecided ? (
              <p className="notice notice-error" role="alert" data-testid="already-decided">
                This approval was already decided (approval_decided): a link decides once, and your decision was not recorded.
              </p>
            ) : null}
            {outcome ? (
              <p className="notice notice-ok" role="status" data-testid="decision-outcome">
                Recorded: {outcome}. The run continues on its own; you can close this page.
              </p>
            ) : null}
            {approval.data.status === 'pending' && !outcome && !alreadyDecided ? (
              <DecisionForm token={token} onDecided={(status) => setOutcome(status)} onError={onError} />
            ) : null}
          </>
        ) : null}
      </Page>
    </Standalone>
  );
}
