import type { AppliedItem, SkippedItem } from './apply-result';
import { clip } from './op-record';
import type { ValidationError } from './validation-error';

const SHOWN = 8;

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * One paragraph an LLM can read, e.g. "Applied 3 of 5 ops; skipped 2: #1 add "x"
 * block_type_not_registered (…). 1 validation error: … Not runnable yet." Long lists are cut.
 */
export function summarize(
  total: number,
  applied: readonly AppliedItem[],
  skipped: readonly SkippedItem[],
  errors: readonly ValidationError[],
): string {
  const parts: string[] = [`Applied ${applied.length} of ${plural(total, 'op')}`];
  if (skipped.length > 0) {
    const items = skipped
      .slice(0, SHOWN)
      .map(
        (item) =>
          `#${item.index} ${item.operation_type ?? 'op'}${item.block_id ? ` "${clip(item.block_id, 40)}"` : ''} ${item.reason_code} (${clip(item.reason, 160)})`,
      );
    const more = skipped.length > SHOWN ? `; and ${skipped.length - SHOWN} more` : '';
    parts[0] += `; skipped ${skipped.length}: ${items.join('; ')}${more}`;
  }
  parts[0] += '.';
  if (total > 0 && applied.length === 0) parts.push('Nothing changed.');
  if (errors.length === 0) {
    parts.push(
      skipped.length === 0
        ? 'The workflow is valid and runnable.'
        : 'The workflow is valid and runnable; resend the skipped ops once fixed.',
    );
    return parts.join(' ');
  }
  const shown = errors
    .slice(0, SHOWN)
    .map((error) => `${error.block_id}.${error.field} ${error.code} (${clip(error.error, 160)})`);
  const more = errors.length > SHOWN ? `; and ${errors.length - SHOWN} more` : '';
  parts.push(
    `${plural(errors.length, 'validation error')}: ${shown.join('; ')}${more}. Not runnable yet.`,
  );
  return parts.join(' ');
}
