import type { Connector, Range } from '../connectors/connector';
import type { ValidationError } from './validation-error';
import type { WorkflowBlock } from './workflow';

/**
 * Checks a block's `retry` / `timeoutMs` overrides against its connector's `overridable` bounds.
 * A setting the connector does not let blocks override (no range: triggers, waits, or a connector
 * that declares it fixed) is out of bounds whatever its value; `allowed` is then empty. Field
 * names are block-level paths (`retry.maxAttempts`, `timeoutMs`), `allowed` is `[min, max]`.
 */
export function validatePolicy(block: WorkflowBlock, connector: Connector): ValidationError[] {
  const errors: ValidationError[] = [];
  const bounds = connector.overridable;
  const retry = block.retry ?? {};
  const checks: [string, number | undefined, Range | undefined][] = [
    ['retry.maxAttempts', retry.maxAttempts, bounds.retry?.maxAttempts],
    ['retry.initialIntervalMs', retry.initialIntervalMs, bounds.retry?.intervalMs],
    ['retry.maxIntervalMs', retry.maxIntervalMs, bounds.retry?.intervalMs],
    // The coefficient is bounded by the op schema; it is overridable wherever attempts are.
    ['retry.backoffCoefficient', retry.backoffCoefficient, bounds.retry?.maxAttempts && { min: 1, max: 10 }],
    ['timeoutMs', block.timeoutMs, bounds.timeoutMs],
  ];
  for (const [field, value, range] of checks) {
    if (value === undefined) continue;
    if (range && value >= range.min && value <= range.max) continue;
    errors.push({
      block_id: block.id,
      block_type: block.type,
      field,
      value,
      code: field === 'timeoutMs' ? 'timeout_out_of_bounds' : 'retry_out_of_bounds',
      allowed: range ? [range.min, range.max] : [],
      error: range
        ? `${field} of ${block.type} must be between ${range.min} and ${range.max}; got ${value}.`
        : `${field} of ${block.type} cannot be overridden; remove it (GET /api/connectors/${block.type} shows the bounds).`,
      ...(range ? { suggestion: Math.min(Math.max(value, range.min), range.max) } : {}),
    });
  }
  return errors;
}
