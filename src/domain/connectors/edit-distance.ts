/**
 * Levenshtein distance between two strings (insert, delete, substitute each cost 1).
 * O(|a|·|b|) time, O(|b|) memory; inputs are short names.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0 || b.length === 0) return a.length + b.length;
  let previous = new Uint32Array(b.length + 1);
  let current = new Uint32Array(b.length + 1);
  for (let j = 0; j <= b.length; j += 1) previous[j] = j;
  for (let i = 1; i <= a.length; i += 1) {
    current[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j += 1) {
      const substitute = (previous[j - 1] as number) + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        substitute,
      );
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length] as number;
}

function normalize(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * The candidate closest to `name`, or undefined when none is close enough to be a useful
 * suggestion. Case, separators and camelCase are ignored; a candidate containing the name (or
 * contained in it, 3+ characters, or with the same words reordered) wins over pure edit distance; ties keep candidate order, so the
 * answer is deterministic. `aliases` maps extra spellings to a candidate.
 */
export function nearestName(
  name: string,
  candidates: readonly string[],
  aliases: ReadonlyMap<string, string> = new Map(),
): string | undefined {
  const query = normalize(name);
  if (query.length === 0) return undefined;
  const aliased = aliases.get(query);
  if (aliased !== undefined) return aliased;
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const normalized = normalize(candidate);
    const contains =
      query.length >= 3 &&
      (normalized.includes(query) || query.includes(normalized) || sameWords(query, normalized));
    const distance = editDistance(query, normalized);
    const threshold = Math.max(2, Math.floor(Math.max(query.length, normalized.length) * 0.4));
    if (!contains && distance > threshold) continue;
    const score = contains ? distance / 100 : distance;
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** Same words in another order (`send_slack_message` ~ `slack_send_message`). */
function sameWords(a: string, b: string): boolean {
  const words = (text: string) => text.split('_').filter(Boolean).sort().join('_');
  return words(a) === words(b);
}

/** Normalized form used for alias lookups (same rules as `nearestName`). */
export function normalizeName(name: string): string {
  return normalize(name);
}
