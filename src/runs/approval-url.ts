
/** Where the console renders an approval link for a person with no account (the token is the credential). */
export const APPROVAL_PAGE_PATH = '/console/approvals/';

/** The page a notification would link to for the approval with this token. */
export function approvalUrl(base: string, token: string): string {
  return `${base}${APPROVAL_PAGE_PATH}${encodeURIComponent(token)}`;
}

/** `waitingFor` with `approvalUrl` beside its `approvalToken`, when it has one. */
export function withApprovalUrl<T extends { waitingFor: unknown }>(run: T, base: string): T {
  const waiting = run.waitingFor as { approvalToken?: unknown } | null;
  if (typeof waiting?.approvalToken !== 'string') return run;
  return { ...run, waitingFor: { ...waiting, approvalUrl: approvalUrl(base, waiting.approvalToken) } };
}
