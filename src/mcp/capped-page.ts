import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { RestAnswer } from './rest-call';
import { capped, MAX_RESULT_BYTES, restFailure, sizeOf, success } from './tool-result';

interface Page {
  data: unknown[];
  next: string | null;
}

/**
 * One page of a REST list, capped: while the page's JSON exceeds the cap, the same page is read
 * again with a smaller `limit`, so `next_cursor` is always the route's own cursor and the next
 * call (with `after: next_cursor`) continues exactly after the last item shown. `truncated`
 * says the page was cut short of the `limit` asked for.
 */
export async function cappedPage(read: (limit: number) => Promise<RestAnswer>, limit: number): Promise<CallToolResult> {
  let size = limit;
  for (;;) {
    const answer = await read(size);
    if (answer.status >= 400) return restFailure(answer);
    const page = answer.body as Page;
    const bytes = sizeOf(page);
    const shrunk = size < limit && page.next !== null;
    if (bytes <= MAX_RESULT_BYTES) return success({ data: page.data, next: page.next, next_cursor: page.next, truncated: shrunk });
    if (page.data.length <= 1) {
      // One item alone is over the cap: show it with its long values clipped.
      return success({ ...capped({ data: page.data }), next: page.next, next_cursor: page.next, truncated: true });
    }
    size = Math.max(1, Math.min(page.data.length - 1, Math.floor((page.data.length * MAX_RESULT_BYTES) / bytes)));
  }
}
