import type { z } from 'zod';
import type { Connector } from '../connectors/connector';
import { nearestName } from '../connectors/edit-distance';
import { parseTemplate } from '../resolver/reference-parser';
import type { ValidationError } from './validation-error';
import type { WorkflowBlock } from './workflow';

/**
 * Checks a block's params against its connector's agent-visible params schema (hidden params
 * are excluded: secrets fill them). Values carrying references are not type-checked as
 * literals: an exact `{{ref}}` (anywhere along the issue's path) is skipped entirely; an
 * interpolated string is only checked for being a string where a string is expected.
 */
export function validateParams(block: WorkflowBlock, connector: Connector): ValidationError[] {
  const errors: ValidationError[] = [];
  const base = { block_id: block.id, block_type: block.type };
  const shape = connector.agentParams.shape as Record<string, z.ZodType>;
  const names = Object.keys(shape);
  const known: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(block.params)) {
    if (Object.prototype.hasOwnProperty.call(shape, key)) {
      known[key] = value;
      continue;
    }
    const nearest = nearestName(key, names);
    errors.push({
      ...base,
      field: key,
      value,
      code: 'unknown_param',
      allowed: names,
      error: `"${key}" is not a param of ${block.type}${nearest ? `; did you mean "${nearest}"?` : ''} Params: ${names.join(', ')}.`,
      ...(nearest ? { suggestion: nearest } : {}),
    });
  }
  let issues: readonly z.core.$ZodIssue[];
  try {
    const result = connector.agentParams.safeParse(known);
    issues = result.success ? [] : result.error.issues;
  } catch (error) {
    return [
      ...errors,
      {
        ...base,
        field: 'params',
        value: known,
        code: 'invalid_param_value',
        error: `params could not be validated: ${String(error)}`,
      },
    ];
  }
  const seen = new Set<string>();
  for (const issue of issues) {
    const path = issue.path.map(String);
    const field = path.join('.') || 'params';
    if (seen.has(field) || carriesReference(known, path, issue.code)) continue;
    seen.add(field);
    const value = valueAt(known, path);
    const description = path.length === 1 ? shape[path[0] as string]?.description : undefined;
    if (value === undefined) {
      errors.push({
        ...base,
        field,
        value: null,
        code: 'required_param_missing',
        error: `Required param "${field}" of ${block.type} is missing${description ? ` (${description})` : ''}.`,
      });
      continue;
    }
    const allowed = issue.code === 'invalid_value' ? [...issue.values] : undefined;
    // A connector's own check (e.g. a cron expression) may infer the corrected value.
    const suggestion = issue.code === 'custom' ? (issue.params as { suggestion?: unknown } | undefined)?.suggestion : undefined;
    errors.push({
      ...base,
      field,
      value,
      code: 'invalid_param_value',
      error: `Param "${field}": ${issue.message}.`,
      ...(allowed ? { allowed } : {}),
      ...(suggestion === undefined ? {} : { suggestion }),
    });
  }
  return errors;
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let current = root;
  for (const key of path) {
    if (
      current === null ||
      typeof current !== 'object' ||
      !Object.prototype.hasOwnProperty.call(current, key)
    )
      return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function carriesReference(root: unknown, path: readonly string[], code: string): boolean {
  let current = root;
  for (let i = 0; i <= path.length; i += 1) {
    if (typeof current === 'string') {
      const parsed = parseTemplate(current);
      if (parsed.exact) return true;
      return i === path.length && parsed.references.length > 0 && code !== 'invalid_type';
    }
    if (i === path.length) return false;
    const key = path[i] as string;
    if (
      current === null ||
      typeof current !== 'object' ||
      !Object.prototype.hasOwnProperty.call(current, key)
    )
      return false;
    current = (current as Record<string, unknown>)[key];
  }
  return false;
}
