/**
 * Levenshtein distance between two strings (insert, delete, substitute each cost 1).
 * O(|a|·|b|) time, O(|b|) memory; inputs are short names.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
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
 * contained in it, 3+ characters) wins over pure edit distance; ties keep candidate order, so the
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
    const contains = query.length >= 3 && (normalized.includes(query) || query.includes(normalized));
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

/** Normalized form used for alias lookups (same rules as `nearestName`). */
export function normalizeName(name: string): string {
  return normalize(name);
}
