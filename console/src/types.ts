import type { paths } from '../../src/client/openapi-types';
import type { Schemas } from './api';

/** The JSON a route answers with `status`, read from the generated contract. */
type Answer<Operation, Status extends number = 200> = Operation extends { responses: { [S in Status]: { content: { 'application/json': infer Body } } } } ? Body : never;

export type SessionView = Answer<paths['/api/auth/session']['get']>;
export type SignInResult = Answer<paths['/api/auth/sign-in']['post']>;
export type OrganizationPage = Answer<paths['/api/organizations']['get']>;
export type WorkflowPage = Answer<paths['/api/workflows']['get']>;
export type WorkflowDetail = Schemas['WorkflowDetail'];
export type HistoryPage = Answer<paths['/api/workflows/{id}/history']['get']>;
export type HistoryEntry = HistoryPage['data'][number];
export type WorkflowVersion = Answer<paths['/api/workflows/{id}/versions/{version}']['get']>;
export type Run = Schemas['Run'];
export type RunPage = Answer<paths['/api/runs']['get']>;
export type StepLogPage = Answer<paths['/api/runs/{id}/logs']['get']>;
export type StepLog = Schemas['StepLog'];
export type Approval = Answer<paths['/api/approvals/{token}']['get']>;
export type ApprovalDecision = Answer<paths['/api/approvals/{token}']['post']>;
export type InboxPage = Answer<paths['/api/approvals']['get']>;
export type InboxApproval = Schemas['InboxApproval'];
export type AuditPage = Answer<paths['/api/audit/events']['get']>;
export type AuditEvent = Schemas['AuditEvent'];
export type AuditVerifyReport = Schemas['AuditVerifyReport'];
export type ApiKeyPage = Answer<paths['/api/api-keys']['get']>;
export type CreatedApiKey = Answer<paths['/api/api-keys']['post'], 201>;
export type Schedule = Schemas['Schedule'];
export type SchedulePage = Answer<paths['/api/schedules']['get']>;
export type TickPage = Answer<paths['/api/schedules/{id}/ticks']['get']>;
export type ScheduleTick = Schemas['ScheduleTick'];
export type PassResult = Answer<paths['/api/schedules/{id}/trigger']['post']>;
export type Webhook = Schemas['Webhook'];
export type WebhookPage = Answer<paths['/api/workflows/{id}/webhooks']['get']>;
export type ConcurrencyPage = Answer<paths['/api/workflows/{id}/concurrency']['get']>;
export type ConcurrencyLine = ConcurrencyPage['data'][number];
export type DeliveryPage = Answer<paths['/api/webhooks/{id}/deliveries']['get']>;
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type ReplayAnswer = Answer<paths['/api/webhooks/{id}/deliveries/{deliveryId}/replay']['post'], 202>;
