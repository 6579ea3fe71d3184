import { z } from 'zod';
import { validationErrorSchema } from '../workflows/workflow-contract.schemas';
import { ERROR_STATUS } from './error-status';

/**
 * The error body every route answers with (`ErrorFilter`), as the `Error` component of
 * `/openapi.json`: `error` is one of the stable codes of `ERROR_STATUS`, and the details some
 * codes carry are listed so a client can read them typed.
 */
export const ERROR_CODES = Object.keys(ERROR_STATUS) as [string, ...string[]];

const issue = z
  .object({ path: z.string().describe('dotted path of the offending field; empty for the root'), code: z.string().optional(), message: z.string() })
  .meta({ id: 'Issue', description: 'One problem with a request body or query string.' });

export const errorSchema = z
  .looseObject({
    error: z.enum(ERROR_CODES).meta({ id: 'ErrorCode', description: 'stable machine-readable code' }),
    message: z.string(),
    issues: z.array(issue).optional().describe('400 invalid_body, invalid_query, invalid_input: every problem found'),
    current: z.number().int().optional().describe('412 version_mismatch: the version the workflow is at now'),
    validation_errors: z.array(validationErrorSchema).optional().describe('422 workflow_not_runnable: what keeps the workflow from running'),
    missing: z.array(z.string()).optional().describe('422 secret_missing: the organization secrets to store'),
    retryAfterMs: z.number().int().optional().describe('429 rate_limited or too_many_streams: wait this long before retrying'),
    requiredRole: z.string().optional().describe('403 forbidden: the role the route needs'),
    role: z.string().optional().describe('403 forbidden: the role the caller acts as'),
    max: z.number().int().optional().describe('400 batch_too_large, backfill_too_large: the limit'),
    received: z.number().int().optional().describe('400 batch_too_large: how many ops were sent'),
    field: z.string().optional().describe('400 invalid_cron, invalid_timezone: the field at fault'),
    suggestion: z.unknown().optional().describe('400 invalid_cron, invalid_timezone: a corrected value, when one can be inferred'),
  })
  .meta({ id: 'Error', description: 'Every error: `{error, message}` plus the details its code carries.' });
