import type { z } from 'zod';
import { nearestName } from '../connectors/edit-distance';
import { getPath } from '../resolver/path-access';
import type { LocatedReference, Reference } from '../resolver/reference-parser';
import { checkOutputPath } from './output-path';
import type { ValidationError } from './validation-error';

/** One problem with one reference, before the block and field are attached. */
export type Problem = Pick<ValidationError, 'code' | 'error' | 'allowed' | 'suggestion'>;

/** `unknown_output` when the reference path is not in the outputs schema, with the nearest fix. */
export function checkOutputs(
  located: LocatedReference,
  reference: Reference,
  schema: z.core.$ZodType,
  owner: string,
): Problem | undefined {
  const result = checkOutputPath(schema, reference.path);
  if (result.ok) return undefined;
  const { path } = reference;
  const missing = path.slice(0, result.at + 1).join('.');
  const parent = path.slice(0, result.at).join('.');
  // With a single declared field there is only one thing the reference can have meant.
  const nearest = nearestName(path[result.at] as string, result.allowed) ?? (result.allowed.length === 1 ? result.allowed[0] : undefined);
  const where =
    result.allowed.length > 0
      ? `declared ${parent ? `fields of "${parent}"` : 'outputs'}: ${result.allowed.join(', ')}`
      : `"${parent}" is a ${result.found} and has no fields`;
  return {
    code: 'unknown_output',
    allowed: result.allowed,
    error: `${reference.raw}: ${owner} has no output "${missing}"; ${where}.`,
    ...(nearest
      ? {
          suggestion: replaceReference(located, reference, reference.root, [
            ...path.slice(0, result.at),
            nearest,
          ]),
        }
      : {}),
  };
}

/** `unknown_reference` when `{{vars.path}}` names no variable value. */
export function checkVariable(
  located: LocatedReference,
  reference: Reference,
  scope: { variables: Readonly<Record<string, unknown>> },
): Problem | undefined {
  if (reference.path.length === 0 || getPath(scope.variables, reference.path) !== undefined)
    return undefined;
  const names = Object.keys(scope.variables);
  const nearest = nearestName(reference.path[0] as string, names);
  return {
    code: 'unknown_reference',
    allowed: names,
    error: `${reference.raw}: no variable "${reference.path.join('.')}" (variables: ${names.join(', ') || 'none'}). Add it with set_variables.`,
    ...(nearest && nearest !== reference.path[0]
      ? { suggestion: replaceReference(located, reference, 'vars', [nearest]) }
      : {}),
  };
}

/** `located.text` with the reference replaced by `{{root.path}}`. */
export function replaceReference(
  located: LocatedReference,
  reference: Reference,
  root: string,
  path: readonly string[],
): string {
  const fixed = `{{${[root, ...path].join('.')}}}`;
  return located.text.split(reference.raw).join(fixed);
}
