import { z } from 'zod';
import { pageQuery } from '../http/keyset';

/** Request and response of `GET /api/approvals` (the organization's approvals inbox). */

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'timed_out', 'cancelled'] as const;

export const inboxQuery = pageQuery(200, 50).extend({
  status: z.enum(APPROVAL_STATUSES).default('pending').describe('pending (default): undecided and not past their deadline'),
});

const inboxItem = z
  .object({
    runId: z.string(),
    workflowId: z.string(),
    blockId: z.string(),
    prompt: z.string(),
    status: z.enum(APPROVAL_STATUSES),
    requestedAt: z.string(),
    expiresAt: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    note: z.string().nullable(),
    approvalToken: z.string().optional().describe('pending only: the single-use token (as the run\'s waitingFor shows it); decide with POST /api/approvals/:token'),
    approvalUrl: z.string().optional().describe('pending only: the console page that decides it'),
  })
  .meta({ id: 'InboxApproval', description: 'A human approval of one of the organization\'s runs.' });

export const inboxResponse = z.object({ data: z.array(inboxItem), next: z.string().nullable() });
