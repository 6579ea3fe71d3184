import { useEffect, type ReactNode } from 'react';
import { ErrorNotice } from './components/notice';
import { Page } from './components/page';
import { ApiKeysPage } from './pages/api-keys';
import { ApprovalLinkPage } from './pages/approval-link';
import { ApprovalsInboxPage } from './pages/approvals-inbox';
import { AuditPage } from './pages/audit';
import { RunPage } from './pages/run';
import { RunsPage } from './pages/runs';
import { SchedulePage } from './pages/schedule';
import { SchedulesPage } from './pages/schedules';
import { SignInPage } from './pages/sign-in';
import { WorkflowPage } from './pages/workflow';
import { WorkflowsPage } from './pages/workflows';
import { Link, match, navigate, useLocation, type Location } from './router';
import { SessionProvider } from './session';
import { Shell } from './shell';

/**
 * The console. The approval link page stands alone (its token is the credential: no account
 * needed); every other page needs a session and shows the sign-in form without one.
 */
export function App() {
  const location = useLocation();
  const approval = match('/approvals/:token', location.path);
  if (approval?.token) return <ApprovalLinkPage token={approval.token} />;
  return (
    <SessionProvider
      signedIn={<Shell>{route(location)}</Shell>}
      signedOut={(onSignedIn) => <SignInPage onSignedIn={onSignedIn} />}
      failed={(error) => (
        <main id="main">
          <ErrorNotice error={error} what="The console could not reach the API" />
        </main>
      )}
    />
  );
}

function route(location: Location): ReactNode {
  const { path, search } = location;
  if (path === '/' || path === '/sign-in') return <Redirect to="/runs" />;
  if (path === '/runs') return <RunsPage workflowId={search.get('workflowId') ?? ''} status={search.get('status') ?? ''} />;
  const run = match('/runs/:id', path);
  if (run?.id) return <RunPage key={run.id} runId={run.id} />;
  if (path === '/workflows') return <WorkflowsPage />;
  const workflow = match('/workflows/:id', path);
  if (workflow?.id) return <WorkflowPage key={workflow.id} workflowId={workflow.id} />;
  if (path === '/schedules') return <SchedulesPage workflowId={search.get('workflowId') ?? ''} />;
  const schedule = match('/schedules/:id', path);
  if (schedule?.id) return <SchedulePage key={schedule.id} scheduleId={schedule.id} />;
  if (path === '/approvals') return <ApprovalsInboxPage />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/api-keys') return <ApiKeysPage />;
  return (
    <Page title="Page not found">
      <p>
        Nothing lives at this address. <Link to="/runs">Go to the runs</Link>.
      </p>
    </Page>
  );
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}
