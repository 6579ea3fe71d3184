import type { z } from 'zod';

/** A schema's complaints as one line (`files: expected array, received string; …`), the first `max` of them; `root` names the value itself. */
export function issuesText(issues: readonly z.core.$ZodIssue[], root: string, max = 5): string {
  return issues
    .slice(0, max)
    .map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : root}: ${issue.message}`)
    .join('; ');
}
